package io.scribeledger.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.scribeledger.config.ConfigResolver;
import io.scribeledger.support.Await;
import io.scribeledger.support.Ports;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Five discovery verticles on real UDP sockets on loopback, each dropping a share of the datagrams
 * it receives (5 %, then 20 %): members may be suspected, and refute, but no healthy member is ever
 * declared down. Rounds are 200 ms, so each 30 s phase is 150 rounds: two and a half minutes of
 * protocol time at the default 1 s rounds ({@code -Dscribe.lossPhaseMs=180000} runs 900 rounds).
 */
class PacketLossTest {

  private static final int MEMBERS = 5;

  /** Each phase's length: 30 s in the suite; {@code -Dscribe.lossPhaseMs} for a longer run. */
  private static final long PHASE_MS = Long.getLong("scribe.lossPhaseMs", 30_000);

  /** The share of datagrams each member drops on arrival now (read on the event loops). */
  private volatile double loss;

  @Test
  void noHealthyMemberIsDeclaredDownAtFiveOrTwentyPercentLoss(@TempDir Path dir) throws Exception {
    Path keys = DiscoveryTest.keyFile(dir);
    int[] udp = new int[MEMBERS];
    for (int i = 0; i < MEMBERS; i++) {
      udp[i] = Ports.free();
    }
    JsonArray seeds = new JsonArray().add("127.0.0.1:" + udp[0]);
    AtomicLong dropped = new AtomicLong();
    AtomicLong arrived = new AtomicLong();
    Random random = new Random(42);
    Vertx vertx = Vertx.vertx();
    List<MemberEvent> events = new CopyOnWriteArrayList<>();
    try {
      vertx.eventBus().registerCodec(new io.scribeledger.service.LocalCodec()); // as MainVerticle
      vertx
          .eventBus()
          .<Object>consumer(DiscoveryVerticle.EVENTS, m -> events.add((MemberEvent) m.body()));
      for (int i = 0; i < MEMBERS; i++) {
        JsonObject config =
            TestNode.config(
                "n" + (i + 1),
                dir.resolve("n" + (i + 1)),
                new JsonObject().put("discovery", DiscoveryTest.fast(udp[i], seeds, keys)));
        vertx
            .deployVerticle(
                new DiscoveryVerticle(
                    ConfigResolver.resolve(config),
                    new SimpleMeterRegistry(),
                    () -> {
                      arrived.incrementAndGet();
                      synchronized (random) {
                        if (random.nextDouble() < loss) {
                          dropped.incrementAndGet();
                          return false;
                        }
                      }
                      return true;
                    }))
            .await(10, TimeUnit.SECONDS);
      }
      Await.until("every member sees the four others alive", 10_000, () -> allAlive(vertx));
      for (double share : new double[] {0.05, 0.20}) {
        loss = share;
        events.clear();
        long droppedBefore = dropped.get();
        long arrivedBefore = arrived.get();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PHASE_MS);
        Await.until("the phase ends", PHASE_MS + 5_000, () -> System.nanoTime() >= deadline);
        long suspected = events.stream().filter(e -> e.now() == Packet.Status.SUSPECT).count();
        List<MemberEvent> down =
            events.stream().filter(e -> e.now() == Packet.Status.DOWN).toList();
        System.out.printf(
            "discovery at %.0f %% loss for %d s: %d of %d datagrams dropped, %d suspicions, %d"
                + " down%n",
            share * 100,
            PHASE_MS / 1000,
            dropped.get() - droppedBefore,
            arrived.get() - arrivedBefore,
            suspected,
            down.size());
        assertEquals(List.of(), down, "no healthy member declared down at " + share);
        assertTrue(
            dropped.get() - droppedBefore >= (arrived.get() - arrivedBefore) * share / 2,
            "the loss was injected");
        loss = 0;
        Await.until("all alive again", 10_000, () -> allAlive(vertx));
      }
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static boolean allAlive(Vertx vertx) {
    for (int i = 1; i <= MEMBERS; i++) {
      DiscoveryStatus status;
      try {
        status = new DiscoveryClient(vertx, "n" + i).status().await(5, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        return false;
      }
      long alive = status.members().stream().filter(m -> m.status().equals("alive")).count();
      if (alive < MEMBERS) {
        return false;
      }
    }
    return true;
  }
}
