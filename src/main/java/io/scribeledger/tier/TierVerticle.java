package io.scribeledger.tier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.scribeledger.config.NodeConfig;
import io.scribeledger.ledger.IntegrityScrub;
import io.scribeledger.ledger.LedgerState;
import io.scribeledger.ledger.SegmentArchived;
import io.scribeledger.ledger.SegmentInfo;
import io.scribeledger.ledger.WriteOutcome;
import io.scribeledger.service.LedgerClient;
import io.scribeledger.service.LocalCodec;
import io.scribeledger.service.NodeMeters;
import io.scribeledger.service.TierView;
import io.scribeledger.storage.Directories;
import io.scribeledger.storage.SegmentStore;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves this node's sealed segments through {@code sealed → uploading → archived → evicted}. The
 * leader uploads each sealed segment once (content-derived key, size and SHA-256 confirmed), then
 * proposes {@link SegmentArchived} through Raft and writes the segment's manifest object with a
 * signed tree head; every node evicts archived segments beyond its retention. Its state comes from
 * the ledger each round, never from listing the bucket. SDK calls start on workers (credential
 * lookups may block) and complete on this verticle's context; compression and hashing run on
 * workers.
 */
public final class TierVerticle extends AbstractVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(TierVerticle.class);
  static final DeliveryOptions LOCAL = new DeliveryOptions().setCodecName(LocalCodec.NAME);

  /** Upload retries back off from this, doubling, up to {@link #MAX_BACKOFF_MS}, with jitter. */
  private static final long FIRST_BACKOFF_MS = 500;

  private static final long MAX_BACKOFF_MS = 10_000;

  /** Manifest objects re-written per round after a leader change (they may be missing). */
  private static final int REPUBLISH_PER_ROUND = 8;

  /** How often the leader writes the newest signed tree head to the bucket. */
  private static final long HEAD_EVERY_MS = 10_000;

  private final NodeConfig config;
  private final NodeConfig.Tiering tiering;
  private final S3Archive archive;
  private final Path uploadDir;
  private final Path segmentsDir;

  private LedgerClient ledger;
  private MessageConsumer<Object> consumer;
  private long timer = -1;
  private boolean roundRunning;
  private volatile TierStatus status = TierStatus.UNKNOWN;

  private final Set<Long> uploading = new HashSet<>();
  private final Map<Long, Backoff> backoff = new HashMap<>();
  private final Set<Long> published = new HashSet<>();
  private boolean leading;
  private long headPublishedSize = -1;
  private long headPublishedAt;
  private Optional<String> lastError = Optional.empty();
  private final NodeMeters meters;
  private Counter uploaded;
  private Counter uploadFailures;
  private Counter uploadedBytes;
  private Counter evicted;

  /** When a segment's next upload attempt may start, after {@code attempts} failures. */
  private record Backoff(int attempts, long nextAtMs) {}

  public TierVerticle(NodeConfig config, MeterRegistry registry, S3Archive archive) {
    this.config = config;
    this.tiering = config.tiering();
    this.meters = new NodeMeters(registry, config.node().id());
    this.archive = archive;
    this.uploadDir = config.node().dataDir().resolve("tier-upload");
    this.segmentsDir = LedgerState.segmentsDir(config.node().dataDir());
  }

  /** The event-bus address of a node's tiering verticle. */
  public static String address(String nodeId) {
    return "scribe.tier." + nodeId;
  }

  @Override
  public void start(Promise<Void> started) {
    ledger = new LedgerClient(vertx, config.node().id(), config.raft());
    registerMeters();
    vertx
        .executeBlocking(
            () -> {
              // Half-written objects of a run that stopped: prepared again when needed.
              Directories.clear(uploadDir);
              Files.createDirectories(uploadDir);
              return null;
            })
        .onSuccess(
            v -> {
              consumer = vertx.eventBus().consumer(address(config.node().id()), this::handle);
              timer = vertx.setPeriodic(tiering.intervalMs(), t -> round());
              LOG.info(
                  "tiering on: sealed segments archived to s3://{}/{} ({}), newest {} kept on disk",
                  archive.bucket(),
                  archive.prefix(),
                  tiering.compression(),
                  tiering.retainSegments());
              started.complete();
            })
        .onFailure(started::fail);
  }

  @Override
  public void stop(Promise<Void> stopped) {
    vertx.cancelTimer(timer);
    meters.removeAll();
    (consumer == null ? Future.<Void>succeededFuture() : consumer.unregister())
        .onComplete(ar -> stopped.complete());
  }

  private void handle(Message<Object> message) {
    if (message.body() instanceof TierRequest.Status) {
      message.reply(status, LOCAL);
    } else {
      message.fail(400, "unknown tiering request");
    }
  }

  private void registerMeters() {
    meters.gauge(
        "scribe.tier.lag.segments", "sealed segments not yet archived", () -> status.lagSegments());
    meters.gauge(
        "scribe.tier.lag.bytes",
        "bytes of sealed segments not yet archived",
        () -> status.lagBytes());
    meters.gauge(
        "scribe.tier.lag.oldest.seconds",
        "age of the oldest sealed segment not yet archived",
        () -> status.oldestLagAgeMs() / 1000.0);
    meters.gauge(
        "scribe.tier.archived.segments",
        "segments archived in the manifest",
        () -> status.archivedSegments());
    meters.gauge(
        "scribe.tier.local.segments",
        "sealed segment files on this node's disk",
        () -> status.localSealedSegments());
    uploaded = meters.counter("scribe.tier.uploads", "segments uploaded and recorded");
    uploadFailures = meters.counter("scribe.tier.upload.failures", "upload attempts that failed");
    uploadedBytes = meters.counter("scribe.tier.upload.bytes", "object bytes uploaded");
    evicted = meters.counter("scribe.tier.evictions", "segment files evicted from this node");
  }

  /** One round: look at the ledger, report the lag, upload (leader), publish, evict. */
  private void round() {
    if (roundRunning) {
      return;
    }
    roundRunning = true;
    ledger
        .tiering()
        .onSuccess(
            view -> {
              status = lag(view, System.currentTimeMillis());
              if (view.leader() != leading) {
                leaderChanged(view.leader());
              }
              if (view.leader()) {
                startUploads(view);
                publishMissing(view);
                publishHead(view);
              }
            })
        .compose(this::evict)
        .onComplete(ar -> roundRunning = false);
  }

  private void leaderChanged(boolean nowLeading) {
    leading = nowLeading;
    published.clear();
    headPublishedSize = -1;
    if (nowLeading) {
      // Multipart uploads begun before this leadership belong to a leader that died mid-upload.
      Instant before = Instant.now();
      sdk(() -> archive.abortIncomplete(before))
          .onSuccess(
              n -> {
                if (n > 0) {
                  LOG.info("aborted {} incomplete multipart uploads left by an earlier leader", n);
                }
              })
          .onFailure(e -> note("cleaning up incomplete uploads", e));
    }
  }

  /** The lag as this node's manifest shows it, and whether it passes the configured bound. */
  private TierStatus lag(TierView view, long now) {
    long segments = 0;
    long bytes = 0;
    long oldest = 0;
    for (SegmentInfo s : view.sealed()) {
      if (!view.archived().containsKey(s.id())) {
        segments++;
        bytes += s.sizeBytes();
        oldest = Math.max(oldest, now - s.createdAt());
      }
    }
    Optional<String> degraded = Optional.empty();
    if (segments > tiering.maxLagSegments()) {
      degraded =
          Optional.of(
              segments
                  + " sealed segments wait for the archive (bound "
                  + tiering.maxLagSegments()
                  + ")");
    } else if (oldest > tiering.maxLagAgeMs()) {
      degraded =
          Optional.of(
              "the oldest unarchived segment was sealed "
                  + oldest / 1000
                  + " s ago (bound "
                  + tiering.maxLagAgeMs() / 1000
                  + " s)");
    }
    return new TierStatus(
        segments, bytes, oldest, view.archived().size(), view.local().size(), lastError, degraded);
  }

  private void startUploads(TierView view) {
    long now = System.currentTimeMillis();
    for (SegmentInfo segment : view.sealed()) {
      if (uploading.size() >= tiering.uploadConcurrency()) {
        return;
      }
      Backoff b = backoff.get(segment.id());
      if (view.archived().containsKey(segment.id())
          || uploading.contains(segment.id())
          || (b != null && b.nextAtMs() > now)) {
        continue;
      }
      uploading.add(segment.id());
      upload(segment)
          .onComplete(
              ar -> {
                uploading.remove(segment.id());
                if (ar.succeeded()) {
                  backoff.remove(segment.id());
                } else {
                  failed(segment, ar.cause());
                }
              });
    }
  }

  /**
   * Checks the segment file against the manifest and prepares the object on a worker (bytes that do
   * not match their Merkle root are never archived: every node would then drop its good copy),
   * uploads and confirms it, records it through Raft, then writes its manifest object. The object
   * is always written, never taken as it is found under its key: metadata found there proves
   * nothing.
   */
  private Future<Void> upload(SegmentInfo segment) {
    String codec = tiering.compression();
    String key = archive.segmentKey(segment, codec);
    Path file = SegmentStore.fileOf(segmentsDir, segment.id());
    Path object = uploadDir.resolve("seg-" + segment.id() + ".object");
    long started = System.nanoTime();
    return vertx
        .executeBlocking(
            () -> {
              List<String> problems = IntegrityScrub.check(file, segment);
              if (!problems.isEmpty()) {
                throw new IllegalStateException(
                    "not archived, the file does not match the manifest: "
                        + String.join("; ", problems));
              }
              return SegmentCodec.prepare(file, codec, object, tiering.partBytes());
            },
            false)
        .compose(
            prepared ->
                sdk(() -> archive.upload(key, prepared))
                    .onSuccess(v -> uploadedBytes.increment((double) prepared.size()))
                    .map(v -> prepared))
        .compose(
            prepared ->
                ledger.archive(
                    new SegmentArchived(
                        segment.id(), key, prepared.sha256(), prepared.size(), codec)))
        .compose(
            outcome -> {
              if (!(outcome instanceof WriteOutcome.Archived archived)) {
                return Future.failedFuture(
                    new IllegalStateException(
                        "the archive record was refused: "
                            + ((WriteOutcome.Rejected) outcome).error().message()));
              }
              uploaded.increment();
              lastError = Optional.empty();
              LOG.info(
                  "segment {} archived as {} ({} bytes, {} ms)",
                  segment.id(),
                  archived.record().objectKey(),
                  archived.record().objectSize(),
                  (System.nanoTime() - started) / 1_000_000);
              return publish(segment, archived.record());
            })
        .eventually(
            () -> vertx.executeBlocking(() -> Files.deleteIfExists(object), false).mapEmpty());
  }

  private void failed(SegmentInfo segment, Throwable cause) {
    uploadFailures.increment();
    Backoff previous = backoff.get(segment.id());
    int attempts = previous == null ? 1 : previous.attempts() + 1;
    long delay =
        Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS << Math.min(attempts - 1, 20))
            * (50 + ThreadLocalRandom.current().nextInt(100))
            / 100;
    backoff.put(segment.id(), new Backoff(attempts, System.currentTimeMillis() + delay));
    // One line for the first failure and then every tenth: an outage must not flood the log.
    if (attempts == 1 || attempts % 10 == 0) {
      note("uploading segment " + segment.id() + " (attempt " + attempts + ")", cause);
    } else {
      lastError = Optional.of(describe("uploading segment " + segment.id(), cause));
    }
  }

  /** At most one WARN line per kind of failure per minute; the rest only update lastError. */
  private static final long WARN_EVERY_MS = 60_000;

  private final Map<String, Long> warnedAt = new HashMap<>();

  private void note(String what, Throwable cause) {
    String line = describe(what, cause);
    lastError = Optional.of(line);
    String kind = what.replaceAll("[0-9]+", "N");
    long now = System.currentTimeMillis();
    Long last = warnedAt.get(kind);
    if (what.startsWith("uploading") || last == null || now - last >= WARN_EVERY_MS) {
      warnedAt.put(kind, now);
      LOG.warn("tiering: {}; retrying with backoff", line);
    }
  }

  /** What failed and the innermost cause's own words (S3 errors name no secret). */
  private static String describe(String what, Throwable cause) {
    Throwable root = cause;
    while ((root instanceof java.util.concurrent.CompletionException
            || root instanceof java.util.concurrent.ExecutionException)
        && root.getCause() != null) {
      root = root.getCause();
    }
    if (root instanceof io.scribeledger.error.LedgerException e) {
      return what + " failed: " + e.error().message();
    }
    return what + " failed: " + root.getClass().getSimpleName() + ": " + root.getMessage();
  }

  /** Writes segment's manifest object: the segment, its object, and a head signed at its end. */
  private Future<Void> publish(SegmentInfo segment, SegmentArchived record) {
    return ledger
        .signedHead(segment.lastIndex())
        .compose(
            head -> {
              byte[] body =
                  new ArchiveManifest(segment, record, head)
                      .toJson()
                      .encodePrettily()
                      .getBytes(StandardCharsets.UTF_8);
              return sdk(() -> archive.putSmall(archive.manifestKey(segment.id()), body));
            })
        .onSuccess(v -> published.add(segment.id()));
  }

  /**
   * After a leader change the new leader cannot know which manifest objects the old one wrote: it
   * writes them again (same content), a few per round.
   */
  private void publishMissing(TierView view) {
    int started = 0;
    for (SegmentInfo segment : view.sealed()) {
      SegmentArchived record = view.archived().get(segment.id());
      if (record == null || published.contains(segment.id()) || uploading.contains(segment.id())) {
        continue;
      }
      if (started++ >= REPUBLISH_PER_ROUND) {
        return;
      }
      uploading.add(segment.id());
      publish(segment, record)
          .onComplete(ar -> uploading.remove(segment.id()))
          .onFailure(e -> note("writing the manifest object of segment " + segment.id(), e));
    }
  }

  /** Every {@link #HEAD_EVERY_MS}, the newest signed head: restore names what was not archived. */
  private void publishHead(TierView view) {
    long now = System.currentTimeMillis();
    if (view.treeSize() == headPublishedSize || now - headPublishedAt < HEAD_EVERY_MS) {
      return;
    }
    headPublishedAt = now;
    long size = view.treeSize();
    ledger
        .signedHead(size)
        .compose(
            head ->
                sdk(
                    () ->
                        archive.putSmall(
                            archive.latestHeadKey(),
                            head.toJson().encodePrettily().getBytes(StandardCharsets.UTF_8))))
        .onSuccess(v -> headPublishedSize = size)
        .onFailure(e -> note("writing the latest tree head", e));
  }

  /** Drops what {@link EvictionPlan} allows, one segment after another. */
  private Future<Void> evict(TierView view) {
    Future<Void> chain = Future.succeededFuture();
    for (long id : EvictionPlan.choose(view, tiering, System.currentTimeMillis())) {
      chain =
          chain.compose(
              v ->
                  ledger
                      .evict(id)
                      .map(
                          done -> {
                            if (done) {
                              evicted.increment();
                              LOG.info(
                                  "segment {} evicted from this node's disk (archived as {})",
                                  id,
                                  view.archived().get(id).objectKey());
                            }
                            return (Void) null;
                          }));
    }
    return chain.recover(
        e -> {
          note("evicting", e);
          return Future.succeededFuture();
        });
  }

  /**
   * Starts an SDK call on a worker (resolving credentials may block) and completes on this
   * verticle's context.
   */
  private <T> Future<T> sdk(Supplier<CompletableFuture<T>> call) {
    return vertx
        .executeBlocking(call::get, false)
        .compose(cf -> Future.fromCompletionStage(cf, context));
  }
}
