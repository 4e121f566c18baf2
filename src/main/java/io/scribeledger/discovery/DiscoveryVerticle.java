package io.scribeledger.discovery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.scribeledger.config.ConfigException;
import io.scribeledger.config.ConfigResolver;
import io.scribeledger.config.NodeConfig;
import io.scribeledger.service.LocalCodec;
import io.scribeledger.service.NodeMeters;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * UDP discovery and failure detection (SWIM with Lifeguard's refinements, see {@link Swim}) on a
 * Vert.x datagram socket: every datagram authenticated ({@link PacketCodec}), unicast to the seeds
 * and the members learned from them. Raft stays the only source of truth for membership; this gives
 * liveness. Its door {@code scribe.discovery.<node>} answers {@link DiscoveryRequest.Status};
 * member events go out on {@link #EVENTS} and as one INFO line each.
 */
public final class DiscoveryVerticle extends AbstractVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(DiscoveryVerticle.class);
  static final DeliveryOptions LOCAL = new DeliveryOptions().setCodecName(LocalCodec.NAME);

  /** Where {@link MemberEvent}s are published. */
  public static final String EVENTS = "scribe.discovery.events";

  private final NodeConfig config;
  private final NodeConfig.Discovery discovery;

  private PacketCodec codec;
  private DatagramSocket socket;
  private Swim swim;
  private long timer = -1;
  private IncarnationFile incarnations;
  // Written by the start's blocking step before the event loop reads them (the future orders
  // them), then by the event loop only.
  private volatile long startIncarnation;
  private volatile long reservedIncarnations;
  private volatile boolean reservationFailing;
  private boolean reserving;
  private MessageConsumer<Object> consumer;
  private final Map<DropReason, Counter> dropped = new EnumMap<>(DropReason.class);
  private final NodeMeters meters;
  private Timer rtt;
  private List<Future<Void>> leaving;
  private io.scribeledger.service.LedgerClient ledger;
  private boolean joining;
  private long lastJoinAt = Long.MIN_VALUE / 2;

  /** At most one automatic join is started per this interval (and one runs at a time). */
  private static final long AUTO_JOIN_EVERY_MS = 5_000;

  /**
   * Whether a datagram that arrived is handled: always, but for tests that inject packet loss on
   * real sockets (a real network cannot lose packets on demand).
   */
  private final java.util.function.BooleanSupplier delivered;

  public DiscoveryVerticle(NodeConfig config, MeterRegistry registry) {
    this(config, registry, () -> true);
  }

  /** As above, dropping each datagram that arrives when {@code delivered} says so. */
  DiscoveryVerticle(
      NodeConfig config, MeterRegistry registry, java.util.function.BooleanSupplier delivered) {
    this.config = config;
    this.discovery = config.discovery();
    this.meters = new NodeMeters(registry, config.node().id());
    this.delivered = delivered;
  }

  /** The event-bus address of a node's discovery verticle. */
  public static String address(String nodeId) {
    return "scribe.discovery." + nodeId;
  }

  @Override
  public void start(Promise<Void> started) {
    ledger = new io.scribeledger.service.LedgerClient(vertx, config.node().id(), config.raft());
    incarnations = new IncarnationFile(config.node().dataDir());
    vertx
        .executeBlocking(
            () -> {
              Keyring keys;
              try {
                keys = Keyring.load(discovery.keyFile().orElseThrow());
              } catch (IOException | IllegalArgumentException e) {
                throw new ConfigException("discovery.keyFile", e.getMessage());
              }
              long wall = System.currentTimeMillis();
              try {
                IncarnationFile.Reservation reserved = incarnations.start(wall);
                startIncarnation = reserved.start();
                reservedIncarnations = reserved.upTo();
              } catch (IOException | ArithmeticException e) {
                // Liveness is worth more than this safeguard: the clock alone is right unless it
                // stepped back since the last run. Rounds go on trying to reserve.
                LOG.warn(
                    "discovery: cannot reserve incarnations ({}); starting from the clock",
                    e.getMessage());
                startIncarnation = wall;
                reservedIncarnations = wall;
                reservationFailing = true;
              }
              return keys;
            })
        .compose(
            keys -> {
              codec = new PacketCodec(keys, config.node().clusterId(), discovery.maxClockSkewMs());
              swim =
                  new Swim(
                      config.node().id(),
                      discovery.address(),
                      config.raftAddress(),
                      config.httpAddress(),
                      // From the wall clock, never below what an earlier run used: a restart is
                      // newer than anything its earlier run sent.
                      startIncarnation,
                      new Swim.Timing(
                          discovery.intervalMs(),
                          discovery.probeTimeoutMs(),
                          discovery.indirectProbes(),
                          discovery.suspicionMinMs(),
                          discovery.suspicionMaxMs()),
                      discovery.seeds(),
                      this::send,
                      new Swim.Listener() {
                        @Override
                        public void changed(Swim.MemberView m, Packet.Status before) {
                          announce(m, before);
                        }

                        @Override
                        public void probeAcked(long rttMs) {
                          if (rtt != null) {
                            rtt.record(Duration.ofMillis(rttMs));
                          }
                        }
                      },
                      new SecureRandom(),
                      System::currentTimeMillis,
                      this::maxIncarnation);
              socket = vertx.createDatagramSocket(new DatagramSocketOptions());
              socket.handler(this::receive);
              return socket.listen(discovery.port(), discovery.host());
            })
        .onSuccess(
            s -> {
              registerMeters();
              snapshot = swim.members();
              scheduleTick();
              consumer = vertx.eventBus().consumer(address(config.node().id()), this::handle);
              LOG.info(
                  "discovery on udp {} (cluster {}, key {}), seeds {}",
                  discovery.address(),
                  config.node().clusterId(),
                  codec == null ? "?" : "set",
                  discovery.seeds());
              started.complete();
            })
        .onFailure(started::fail);
  }

  /**
   * On the leader only, one change at a time and at most one per {@link #AUTO_JOIN_EVERY_MS}: a
   * member discovery has seen alive for {@code autoJoinAfterMs} that Raft does not know is added as
   * a listener, then promoted to voter once caught up ({@code LedgerRequest.Join}, the same path as
   * {@code /cluster/join}, certificate check included when TLS is on). Nothing is ever removed
   * automatically: down is not removed.
   */
  private void autoJoin(long now) {
    if (joining || now - lastJoinAt < AUTO_JOIN_EVERY_MS) {
      return;
    }
    joining = true;
    ledger
        .status()
        .compose(
            status -> {
              if (!"LEADER".equals(status.role())) {
                return Future.succeededFuture();
              }
              java.util.Set<String> inRaft = new java.util.HashSet<>();
              status.members().forEach(m -> inRaft.add(m.nodeId()));
              Swim.MemberView candidate =
                  swim.members().stream()
                      .filter(
                          m ->
                              m.status() == Packet.Status.ALIVE
                                  && !inRaft.contains(m.id())
                                  && now - m.statusSince() >= discovery.autoJoinAfterMs()
                                  && ConfigResolver.isNodeId(m.id())
                                  && ConfigResolver.isHostPort(m.raftAddress())
                                  && ConfigResolver.isHostPort(m.httpAddress()))
                      .findFirst()
                      .orElse(null);
              if (candidate == null) {
                return Future.succeededFuture();
              }
              lastJoinAt = now;
              LOG.info(
                  "auto-join: adding {} (raft {}, http {}) as a listener, then a voter once caught"
                      + " up",
                  candidate.id(),
                  candidate.raftAddress(),
                  candidate.httpAddress());
              return ledger
                  .join(
                      new io.scribeledger.service.LedgerRequest.Join(
                          candidate.id(), candidate.raftAddress(), candidate.httpAddress()))
                  .onSuccess(s -> LOG.info("auto-join: {} is a voter", candidate.id()))
                  .onFailure(
                      e ->
                          LOG.warn(
                              "auto-join of {} did not complete: {}",
                              candidate.id(),
                              io.scribeledger.error.Failures.toApiError(e).message()))
                  .mapEmpty();
            })
        .onComplete(ar -> joining = false);
  }

  /** Protocol time: monotonic, so a wall-clock step neither stops rounds nor convicts anyone. */
  private static long monotonicMs() {
    return System.nanoTime() / 1_000_000;
  }

  /**
   * Ticks at the start of each round on the wall clock, as every member does: the probe schedule
   * they share ({@link Swim}) pings each member once a round only if rounds line up.
   */
  private void scheduleTick() {
    timer =
        vertx.setTimer(
            Swim.untilNextRound(System.currentTimeMillis(), discovery.intervalMs()),
            t -> {
              try {
                tick();
              } finally {
                scheduleTick(); // stop() cancels the latest timer, on this same event loop
              }
            });
  }

  private void tick() {
    try {
      reserveIncarnations();
      if (!swim.tick(monotonicMs())) {
        return;
      }
      if (discovery.autoJoin()) {
        autoJoin(monotonicMs());
      }
      long probe = swim.currentProbe();
      long timeout = swim.probeTimeoutMs();
      vertx.setTimer(
          timeout,
          t -> {
            swim.probeTimedOut(probe, monotonicMs());
            vertx.setTimer(timeout, u -> swim.indirectTimedOut(probe, monotonicMs()));
          });
    } catch (RuntimeException e) {
      LOG.warn("discovery: a round failed: {}", e.toString());
    } finally {
      snapshot = swim.members();
      snapshotHealth = swim.health();
    }
  }

  /**
   * The highest incarnation a refutation may take now: the reserved block; while reserving fails (a
   * full or broken disk), up to the wall clock plus the allowed skew, as nobody can hold a higher
   * incarnation of this node than its clock gave it.
   */
  private long maxIncarnation() {
    long reserved = reservedIncarnations;
    return reservationFailing
        ? Math.max(reserved, System.currentTimeMillis() + discovery.maxClockSkewMs())
        : reserved;
  }

  /**
   * Reserves the next block of incarnations once refutations have used half of this one, off the
   * event loop (one write at a time; a failed one is tried again next round).
   */
  private void reserveIncarnations() {
    long now = swim.incarnation();
    if (now < reservedIncarnations - IncarnationFile.BLOCK / 2 || reserving) {
      return;
    }
    reserving = true;
    vertx
        .executeBlocking(() -> incarnations.reserveFrom(now), false)
        .onComplete(
            ar -> {
              reserving = false;
              if (ar.succeeded()) {
                reservedIncarnations = ar.result();
                reservationFailing = false;
              } else {
                reservationFailing = true;
                LOG.warn(
                    "discovery: cannot reserve incarnations from {}: {}",
                    now,
                    ar.cause().toString());
              }
            });
  }

  /** The members as of the last round, for gauges read on other threads. */
  private volatile List<Swim.MemberView> snapshot = List.of();

  private volatile int snapshotHealth;

  private void receive(DatagramPacket datagram) {
    if (!delivered.getAsBoolean()) {
      return;
    }
    try {
      // Timestamps are checked against the wall clock (the sender's is one too).
      PacketCodec.Result result =
          codec.decode(datagram.data().getBytes(), System.currentTimeMillis());
      if (result instanceof PacketCodec.Result.Dropped d) {
        if (dropped.containsKey(d.reason())) {
          dropped.get(d.reason()).increment();
        }
      } else {
        swim.receive(((PacketCodec.Result.Accepted) result).packet(), monotonicMs());
      }
    } catch (RuntimeException e) {
      // Never reached by input (the codec refuses what it cannot read); a bug must not stop the
      // socket's handler.
      LOG.warn("discovery: a datagram could not be handled: {}", e.toString());
    }
  }

  private void send(String address, Packet packet) {
    int colon = address.lastIndexOf(':');
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      return; // an address gossiped by a member that is not host:port: nothing to send to
    }
    if (colon <= 0 || port < 1 || port > 65535) {
      return;
    }
    List<Packet.Update> gossip = swim.gossip();
    PacketCodec.Encoded encoded = codec.encode(packet, gossip);
    swim.sent(gossip, encoded.updates());
    Future<Void> sent =
        socket.send(Buffer.buffer(encoded.bytes()), port, address.substring(0, colon));
    if (leaving != null) {
      leaving.add(sent);
    }
  }

  private void announce(Swim.MemberView m, Packet.Status before) {
    LOG.info(
        "member {} at {} is {}{} (incarnation {})",
        m.id(),
        m.address(),
        m.status().label(),
        before == null ? "" : ", was " + before.label(),
        m.incarnation());
    vertx
        .eventBus()
        .publish(
            EVENTS,
            new MemberEvent(m.id(), m.address(), before, m.status(), m.incarnation()),
            LOCAL);
  }

  private void handle(Message<Object> message) {
    if (message.body() instanceof DiscoveryRequest.Status) {
      message.reply(status(), LOCAL);
    } else {
      message.fail(400, "unknown discovery request");
    }
  }

  private DiscoveryStatus status() {
    List<DiscoveryStatus.Member> members = new ArrayList<>();
    for (Swim.MemberView m : swim.members()) {
      members.add(
          new DiscoveryStatus.Member(
              m.id(),
              m.address(),
              m.status().label(),
              m.lastSeenMs(),
              m.incarnation(),
              m.suspectedBy()));
    }
    Map<String, Long> drops = new TreeMap<>();
    dropped.forEach((reason, c) -> drops.put(reason.label(), (long) c.count()));
    return new DiscoveryStatus(members, swim.health(), drops);
  }

  private void registerMeters() {
    for (DropReason reason : DropReason.values()) {
      dropped.put(
          reason,
          meters.counter(
              "scribe.discovery.dropped",
              "discovery datagrams dropped, by reason",
              Tag.of("reason", reason.label())));
    }
    for (Packet.Status status : Packet.Status.values()) {
      meters.gauge(
          "scribe.discovery.members",
          "members by status as this node sees them",
          () -> snapshot.stream().filter(m -> m.status() == status).count(),
          Tag.of("status", status.label()));
    }
    meters.gauge(
        "scribe.discovery.local.health",
        "Lifeguard local health score: 0 healthy, up to 8",
        () -> snapshotHealth);
    meters.functionCounter(
        "scribe.discovery.suspicions", "members this node suspected", swim, Swim::suspicions);
    meters.functionCounter(
        "scribe.discovery.refutations",
        "suspicions of this node that it refuted",
        swim,
        Swim::refutations);
    rtt = meters.timer("scribe.discovery.probe.rtt", "round-trip time of answered probes");
  }

  @Override
  public void stop(Promise<Void> stopped) {
    vertx.cancelTimer(timer);
    meters.removeAll();
    if (socket == null) {
      stopped.complete();
      return;
    }
    // A graceful stop says so: the others mark this node left, not down.
    leaving = new ArrayList<>();
    swim.leave(monotonicMs());
    Future.join(leaving)
        .eventually(() -> consumer == null ? Future.succeededFuture() : consumer.unregister())
        .eventually(socket::close)
        .onComplete(ar -> stopped.complete());
  }
}
