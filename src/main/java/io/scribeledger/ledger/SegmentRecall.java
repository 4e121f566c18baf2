package io.scribeledger.ledger;

import io.scribeledger.storage.Directories;
import io.scribeledger.storage.SegmentStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads evicted segments back from the cold tier: downloaded (object size and SHA-256 checked),
 * decompressed, then every record and the Merkle root recomputed against the manifest before the
 * file is moved into place. One download per segment however many readers wait.
 */
final class SegmentRecall {

  private static final Logger LOG = LoggerFactory.getLogger(SegmentRecall.class);

  /** A sealed segment and its archived copy, as the manifest has them. */
  record ArchivedCopy(SegmentInfo segment, SegmentArchived record) {}

  /** Where segments are read back from; null: evicted segments cannot be read on this node. */
  private final ColdTier coldTier;

  private final Path downloads;
  private final LongFunction<Optional<ArchivedCopy>> manifest;

  /** Recalls under way, by segment id: readers of one segment wait for one download. */
  private final ConcurrentHashMap<Long, CompletableFuture<Void>> recalls =
      new ConcurrentHashMap<>();

  /**
   * Recalls from {@code coldTier} (none: every recall fails), downloading into {@code downloads}
   * (emptied now: a crash may have left downloads half-done there) and looking segments up in
   * {@code manifest}.
   */
  SegmentRecall(
      Optional<ColdTier> coldTier, Path downloads, LongFunction<Optional<ArchivedCopy>> manifest)
      throws IOException {
    this.coldTier = coldTier.orElse(null);
    this.downloads = downloads;
    this.manifest = manifest;
    Directories.clear(downloads);
  }

  /** Whether a cold tier is set: without one, an evicted segment cannot come back. */
  boolean enabled() {
    return coldTier != null;
  }

  /**
   * Brings segment {@code segmentId} back into {@code target} (see {@link SegmentStore.Recall});
   * blocking.
   */
  void recall(long segmentId, Path target) throws IOException {
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> running = recalls.putIfAbsent(segmentId, mine);
    if (running != null) {
      try {
        running.join();
        return;
      } catch (CompletionException e) {
        throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
      }
    }
    try {
      if (!Files.exists(target)) {
        List<String> problems = new ArrayList<>();
        Path tmp = fetchToTemp(segmentId, problems);
        if (!problems.isEmpty()) {
          throw new IOException(String.join("; ", problems));
        }
        Directories.moveDurably(tmp, target);
        LOG.info("segment {} recalled from the cold tier", segmentId);
      }
      mine.complete(null);
    } catch (IOException | RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      recalls.remove(segmentId, mine);
    }
  }

  /**
   * Fetches and checks the archived copy of {@code segment} without keeping it (the operator's
   * scrub); what is wrong with it, or nothing.
   */
  List<String> check(SegmentInfo segment) {
    List<String> problems = new ArrayList<>();
    try {
      Path tmp = fetchToTemp(segment.id(), problems);
      if (tmp != null) {
        Files.delete(tmp);
      }
    } catch (IOException e) {
      problems.add(
          "segment " + segment.id() + ": cannot check its archived copy: " + e.getMessage());
    }
    return problems;
  }

  /**
   * Downloads segment {@code segmentId}'s archived copy into a temporary file and checks it; what
   * is wrong goes into {@code problems} (the file is then deleted and null returned).
   */
  private Path fetchToTemp(long segmentId, List<String> problems) throws IOException {
    ColdTier tier = coldTier;
    Optional<ArchivedCopy> copy = manifest.apply(segmentId);
    if (tier == null || copy.isEmpty()) {
      problems.add(
          "segment "
              + segmentId
              + " is not on this node and "
              + (tier == null
                  ? "no cold tier is configured"
                  : "the manifest has no archived copy"));
      return null;
    }
    Path tmp =
        Files.createTempFile(Files.createDirectories(downloads), "seg-" + segmentId + "-", ".tmp");
    try {
      tier.download(copy.get().record(), copy.get().segment().sizeBytes(), tmp);
      problems.addAll(
          IntegrityScrub.check(tmp, copy.get().segment()).stream()
              .map(p -> "archived copy " + copy.get().record().objectKey() + ": " + p)
              .toList());
    } catch (IOException | RuntimeException e) {
      problems.add(
          "segment "
              + segmentId
              + ": archived copy "
              + copy.get().record().objectKey()
              + " unusable: "
              + e.getMessage());
    }
    if (!problems.isEmpty()) {
      Files.deleteIfExists(tmp);
      return null;
    }
    return tmp;
  }
}
