package io.scribeledger.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.History;
import io.scribeledger.support.HttpProbe;
import io.scribeledger.support.JarProcess;
import io.scribeledger.support.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} (every fourth round SIGSTOP for 1-3 s) of a random member at a random moment,
 * round after round, while clients write and read: with snapshots every few dozen entries,
 * checkpoints every few and tiny segments, the kills land during writes, seals, checkpoints (and
 * catch-ups that defer them), snapshots, snapshot installs and the snapshot a restart takes of its
 * ledger as opened. At the end every acknowledged write is on every node at its index, every node
 * has the same root, indices follow real time, linearizable reads never went back, and every tree a
 * receipt claimed is a prefix of the final one. 20 rounds in {@code mvn verify}; {@code
 * -Dscribe.crashRounds=200} for a longer run.
 */
@ExtendWith(VertxExtension.class)
class CrashRoundsIT {

  @Test
  void killNineAtRandomMomentsLosesNothingAndNeverForks(
      Vertx vertx, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    int rounds = Integer.getInteger("scribe.crashRounds", 20);
    Random random = new Random(Long.getLong("scribe.crashSeed", 42));
    JsonObject overrides =
        new JsonObject()
            .put(
                "raft",
                new JsonObject()
                    .put("requestTimeoutMs", 3000)
                    .put("snapshotEveryEntries", 40)
                    .put("logSegmentSizeBytes", 1_200_000))
            // Checkpoints every few entries: kills land during them, and a member restarted
            // more than that far behind defers them while it catches up (LedgerStateMachine).
            .put(
                "storage",
                new JsonObject().put("segmentSizeBytes", 4096).put("commitEveryEntries", 8))
            .put("limits", new JsonObject().put("maxValueBytes", 65536));
    List<JsonObject> configs = TestCluster.configs(dir, 3, overrides);
    List<JarProcess> procs = new ArrayList<>();
    List<Api> apis = new ArrayList<>();
    History history = new History();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger sequence = new AtomicInteger();
    List<Future<Void>> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        procs.add(start(dir, configs, i, 0));
      }
      for (JsonObject c : configs) {
        new HttpProbe(url(c)).awaitStatus("/health", 200, 90_000);
        apis.add(new Api(vertx, c.getJsonObject("http").getInteger("port"), 4));
      }
      for (int c = 0; c < 6; c++) {
        Promise<Void> done = Promise.promise();
        clients.add(done.future());
        clientLoop(vertx, apis.get(c % 3), "k", new Random(c), sequence, history, stop, done);
      }
      long faultsFrom = System.nanoTime();
      List<String> faults = new ArrayList<>();
      long catchUpMs = 0;
      for (int round = 1; round <= rounds; round++) {
        int victim = random.nextInt(3);
        TimeUnit.MILLISECONDS.sleep(200 + random.nextInt(1300)); // a random moment
        faults.add(
            String.format(
                "+%d ms round %d: %s n%d (leader then: %s)",
                (System.nanoTime() - faultsFrom) / 1_000_000,
                round,
                round % 4 == 0 ? "pause" : "kill",
                victim + 1,
                leaderOf(apis)));
        if (round % 4 == 0) {
          // Every fourth round a pause (SIGSTOP) instead: the member comes back as it was.
          procs.get(victim).signal("STOP");
          TimeUnit.MILLISECONDS.sleep(1000 + random.nextInt(2000));
          procs.get(victim).signal("CONT");
        } else {
          procs.get(victim).kill();
          TimeUnit.MILLISECONDS.sleep(random.nextInt(1000));
          procs.set(victim, start(dir, configs, victim, round));
        }
        // The next round starts once the member is back and caught up: a group of three rides
        // out one fault at a time, and a second one while the first victim still catches up
        // (a snapshot install, say) leaves no up-to-date majority to commit with.
        HttpProbe probe = new HttpProbe(url(configs.get(victim)));
        JarProcess member = procs.get(victim);
        try {
          probe.awaitStatus("/health", 200, 90_000, () -> !member.isAlive());
        } catch (IllegalStateException notServing) {
          // A member killed in this round that failed stop (exit 3) on damage MapDB reported is
          // started again, as its supervisor would: a kill can leave damage that the node finds
          // only when an apply reads it, and the fail-stop notes it so that the next start
          // rebuilds (LedgerState.markIfIndexDamaged). Any other fail-stop fails the test.
          if (round % 4 == 0 || member.isAlive() || member.awaitExit(1_000) != 3) {
            throw notServing;
          }
          String failure = failStopLine(member.stdout());
          if (!failure.contains("org.mapdb.DBException")) {
            throw notServing;
          }
          faults.set(
              faults.size() - 1,
              faults.get(faults.size() - 1) + ", failed stop and started again: " + failure);
          procs.set(victim, start(dir, configs, victim, 100 + round));
          probe.awaitStatus("/health", 200, 90_000);
        }
        long serving = System.nanoTime();
        probe.awaitStatus("/health/ready", 200, 90_000);
        long caughtUpMs = (System.nanoTime() - serving) / 1_000_000;
        catchUpMs = Math.max(catchUpMs, caughtUpMs);
        faults.set(
            faults.size() - 1,
            faults.get(faults.size() - 1)
                + String.format(
                    ", serving at +%d ms, ready %d ms later",
                    (serving - faultsFrom) / 1_000_000, caughtUpMs));
      }
      long faultsUntil = System.nanoTime();
      stop.set(true);
      Future.join(new ArrayList<>(clients)).await(60, TimeUnit.SECONDS);

      List<History.Write> acked = history.writes();
      assertTrue(acked.size() > 100, "writes were acknowledged throughout: " + acked.size());
      long maxIndex = acked.stream().mapToLong(History.Write::index).max().orElseThrow();
      JsonObject head = sameHeadEverywhere(apis);
      for (Api api : apis) {
        api.awaitApplied(maxIndex, 60_000);
        for (History.Write w : acked) {
          HttpResponse<Buffer> r = api.get("/kv/" + w.key() + "?minIndex=" + maxIndex);
          assertEquals(200, r.statusCode(), w.key() + ": " + r.bodyAsString());
          assertEquals("value of " + w.key(), r.bodyAsString());
          assertEquals(Long.toString(w.index()), r.getHeader("X-Ledger-Index"), w.key());
        }
        history.assertNoFork(api, head);
      }
      history.assertLinearizable();
      Gap gap = longestGap(acked, faultsFrom, faultsUntil);
      System.out.printf(
          "%d fault rounds (kill -9, every fourth a pause): %d writes acknowledged, %d reads"
              + " checked, final tree size %d, longest time without an acknowledged write %.0f ms"
              + " (from +%d ms),"
              + " longest catch-up of a member after it served HTTP again %d ms%n%s%n",
          rounds,
          acked.size(),
          history.reads(),
          head.getLong("treeSize"),
          gap.lengthMs(),
          gap.fromMs(),
          catchUpMs,
          String.join("\n", faults));
      assertTrue(
          gap.lengthMs() < 3_000,
          "a write was acknowledged at least every 3 s; longest gap " + gap + " after " + faults);
    } finally {
      stop.set(true);
      apis.forEach(Api::close);
      for (JarProcess p : procs) {
        p.close();
      }
    }
  }

  /**
   * A stretch with no write acknowledged: where it began (ms after the first fault) and how long.
   */
  record Gap(long fromMs, double lengthMs) {}

  /** The longest stretch between {@code from} and {@code until} with no write acknowledged. */
  static Gap longestGap(List<History.Write> acked, long from, long until) {
    List<Long> ends = new ArrayList<>();
    for (History.Write w : acked) {
      if (w.endNanos() >= from && w.endNanos() <= until) {
        ends.add(w.endNanos());
      }
    }
    ends.add(from);
    ends.add(until);
    ends.sort(null);
    Gap longest = new Gap(0, 0);
    for (int i = 1; i < ends.size(); i++) {
      double length = (ends.get(i) - ends.get(i - 1)) / 1e6;
      if (length > longest.lengthMs()) {
        longest = new Gap((ends.get(i - 1) - from) / 1_000_000, length);
      }
    }
    return longest;
  }

  /**
   * Polls every node's head until all have the same size (a write whose outcome was unknown may
   * still be committing), then requires the same root: one size, one root, everywhere.
   */
  static JsonObject sameHeadEverywhere(List<Api> apis) {
    long deadline = System.currentTimeMillis() + 60_000;
    while (true) {
      List<JsonObject> heads = new ArrayList<>();
      for (Api api : apis) {
        heads.add(ClusterProcessIT.head(api));
      }
      long size = heads.get(0).getLong("treeSize");
      if (heads.stream().allMatch(h -> h.getLong("treeSize") == size)) {
        for (JsonObject h : heads) {
          assertEquals(
              heads.get(0).getString("rootHash"),
              h.getString("rootHash"),
              "identical root on every node at size " + size);
        }
        return heads.get(0);
      }
      assertTrue(System.currentTimeMillis() < deadline, "heads never converged: " + heads);
    }
  }

  /** The node's fail-stop ERROR line, or what its log ends with. */
  private static String failStopLine(String log) {
    return log.lines()
        .filter(l -> l.contains("failed stop while"))
        .findFirst()
        .orElse(log.substring(Math.max(0, log.length() - 300)));
  }

  private static JarProcess start(Path dir, List<JsonObject> configs, int node, int round) {
    return JarProcess.start(
        dir.resolve("work-n" + (node + 1) + "-" + round), configs.get(node), Map.of());
  }

  private static String leaderOf(List<Api> apis) {
    for (Api api : apis) {
      int leader = DiskFullIT.leaderSeenBy(api);
      if (leader > 0) {
        return "n" + leader;
      }
    }
    return "?";
  }

  private static String url(JsonObject config) {
    return "http://127.0.0.1:" + config.getJsonObject("http").getInteger("port");
  }

  /**
   * Writes a new key named {@code prefix-N}, then reads a random earlier one (linearizable), until
   * stopped, recording both in {@code history}.
   */
  static void clientLoop(
      Vertx vertx,
      Api api,
      String prefix,
      Random random,
      AtomicInteger sequence,
      History history,
      AtomicBoolean stop,
      Promise<Void> done) {
    if (stop.get()) {
      done.tryComplete();
      return;
    }
    String key = prefix + "-" + sequence.incrementAndGet();
    long start = System.nanoTime();
    api.request(HttpMethod.PUT, "/kv/" + key)
        .sendBuffer(Buffer.buffer("value of " + key))
        .onComplete(
            written -> {
              if (written.succeeded()) {
                history.wrote(key, start, written.result());
              }
              String readKey = prefix + "-" + (1 + random.nextInt(Math.max(1, sequence.get())));
              long readStart = System.nanoTime();
              api.request(HttpMethod.GET, "/kv/" + readKey)
                  .send()
                  .onComplete(
                      read -> {
                        if (read.succeeded()) {
                          history.read(readKey, readStart, read.result());
                        }
                        // A client whose node is down or refusing backs off 50 ms, as real
                        // clients do: refused connections return at once, and retrying them
                        // flat out starved the nodes' JVMs of CPU on two cores.
                        boolean refused = written.failed() || written.result().statusCode() >= 500;
                        Runnable next =
                            () ->
                                clientLoop(
                                    vertx, api, prefix, random, sequence, history, stop, done);
                        if (refused) {
                          vertx.setTimer(50, t -> next.run());
                        } else {
                          next.run();
                        }
                      });
            });
  }
}
