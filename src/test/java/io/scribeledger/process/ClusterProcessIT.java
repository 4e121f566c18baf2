package io.scribeledger.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.consensus.NodeStatus;
import io.scribeledger.support.Api;
import io.scribeledger.support.Await;
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
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Three nodes as three processes of the jar: replication, and the leader killed (kill -9) or paused
 * (SIGSTOP) under load: writes to the others are acknowledged again within 2 s of either, nothing
 * acknowledged is lost, and every node ends on the same root.
 */
@ExtendWith(VertxExtension.class)
class ClusterProcessIT {

  /**
   * The leader's log appenders say why a member gets no entries (seen twice: a restarted member's
   * log stopped growing while the leader's went on; the nodes log nothing of it by default).
   */
  private static final Map<String, String> APPENDER_LOG =
      Map.of("JAVA_TOOL_OPTIONS", "-Dscribe.raftAppenderLog=WARN");

  /** How the leader is taken away: killed (then restarted), or paused (then resumed). */
  enum Fault {
    KILL,
    PAUSE
  }

  @ParameterizedTest(name = "{0} of the leader under load")
  @EnumSource(Fault.class)
  void theLeaderLostUnderLoad(
      Fault fault, Vertx vertx, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir)
      throws Exception {
    List<JsonObject> configs =
        TestCluster.configs(
            dir, 3, new JsonObject().put("raft", new JsonObject().put("requestTimeoutMs", 3000)));
    List<JarProcess> procs = new ArrayList<>();
    List<Api> apis = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        procs.add(JarProcess.start(dir.resolve("work-n" + (i + 1)), configs.get(i), APPENDER_LOG));
      }
      for (JsonObject c : configs) {
        new HttpProbe(url(c)).awaitStatus("/health", 200, 90_000);
        apis.add(new Api(vertx, c.getJsonObject("http").getInteger("port"), 8));
      }
      Map<String, Long> acked = new ConcurrentHashMap<>();
      for (int i = 0; i < 30; i++) {
        HttpResponse<Buffer> r = apis.get(i % 3).put("/kv/warm-" + i, "value of warm-" + i);
        assertEquals(201, r.statusCode(), r.bodyAsString());
        acked.put("warm-" + i, r.bodyAsJsonObject().getLong("index"));
      }
      int leader = apis.get(0).leaderNumber() - 1;
      List<Api> survivors = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        if (i != leader) {
          survivors.add(apis.get(i));
        }
      }

      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong faultAt = new AtomicLong();
      AtomicLong firstAckAfterFault = new AtomicLong();
      AtomicInteger sequence = new AtomicInteger();
      Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();
      List<Future<Void>> writers = new ArrayList<>();
      for (int w = 0; w < 8; w++) {
        Promise<Void> done = Promise.promise();
        writers.add(done.future());
        writeLoop(
            survivors.get(w % 2),
            sequence,
            acked,
            stop,
            faultAt,
            firstAckAfterFault,
            refusals,
            done);
      }
      awaitAcked(acked, 300);
      long appliedBeforeFault = raftApplied(apis.get(leader));
      if (fault == Fault.KILL) {
        procs.get(leader).kill();
      } else {
        procs.get(leader).signal("STOP");
      }
      faultAt.set(System.nanoTime());
      java.time.Instant faultWall = java.time.Instant.now();
      List<JarProcess> survivingProcs = new ArrayList<>(procs);
      survivingProcs.remove(leader);
      try {
        awaitAcked(acked, acked.size() + 200);
      } catch (AssertionError stalled) {
        throw diagnosed(stalled, survivingProcs, faultWall, refusals, dir);
      }
      if (fault == Fault.PAUSE) {
        // However long the pause lasts, the others go on; then the old leader comes back.
        long pausedFor = System.nanoTime() - faultAt.get();
        TimeUnit.NANOSECONDS.sleep(Math.max(0, TimeUnit.SECONDS.toNanos(4) - pausedFor));
        long committedBeforeResume = commitIndex(survivors.get(0));
        procs.get(leader).signal("CONT");
        // The resumed node believed itself leader with a commit index as old as the pause: it may
        // report ready only once it really caught up with what was committed meanwhile.
        new HttpProbe(url(configs.get(leader))).awaitStatus("/health/ready", 200, 30_000);
        long applied =
            apis.get(leader).get("/cluster/status").bodyAsJsonObject().getLong("raftAppliedIndex");
        assertTrue(
            applied >= committedBeforeResume - NodeStatus.READY_MAX_APPLY_LAG,
            "ready at Raft index " + applied + ", " + committedBeforeResume + " committed");
        awaitAcked(acked, acked.size() + 100);
      } else {
        // The killed member stays down until the others have committed a few thousand entries
        // without it, and comes back while the writers go on. Issue 10's target is to have
        // applied everything committed when it serves HTTP within 3 s. On machines of their own
        // its peers' work would not take its CPU; here three nodes, their JIT and the writers
        // share two cores, and the restarted JVM got 0.15-0.4 of a core and took 3-6 s
        // (docs/PERFORMANCE.md, "Catch-up"). So the members that stay up now run at the lowest
        // CPU priority (nice 19; at 10 a clean-clone run took 2.8 s), leaving the restarted member
        // the cores as machines of its own would. This test's writers keep its priority. Where
        // renice cannot be done, 10 s stays as a bound that catches a stalled catch-up (at equal
        // priority it took 4-6 s here). Every run prints its figure.
        int ackedAtKill = acked.size();
        Await.until(
            "2,000 entries committed without the killed member",
            60_000,
            () -> commitIndex(survivors.get(0)) >= appliedBeforeFault + 2_000);
        boolean ownCpu = true;
        for (JarProcess survivor : survivingProcs) {
          ownCpu &= survivor.renice(19);
        }
        double catchUpBoundMs = ownCpu ? 3000 : 10_000;
        procs.set(
            leader,
            JarProcess.start(
                dir.resolve("work-n" + (leader + 1) + "-restarted"),
                configs.get(leader),
                APPENDER_LOG));
        HttpProbe restarted = new HttpProbe(url(configs.get(leader)));
        restarted.awaitStatus("/health", 200, 90_000);
        long serving = System.nanoTime();
        long target = commitIndex(survivors.get(0));
        long appliedAtServing = raftApplied(apis.get(leader));
        // It resumes where its ledger's last checkpoint was (a snapshot of the ledger as opened),
        // not at its latest snapshot, long before or none: what the ledger holds is not applied
        // again. A leader's checkpoint lags its applied index by at most a checkpoint's worth
        // (storage.commitEveryEntries entries or 250 ms, a few hundred entries here).
        assertTrue(
            appliedAtServing >= appliedBeforeFault - 1000,
            "resumed at Raft index "
                + appliedAtServing
                + ", had applied "
                + appliedBeforeFault
                + " before the kill");
        long applied = appliedAtServing;
        int behind = acked.size() - ackedAtKill;
        while (applied < target && System.nanoTime() - serving < TimeUnit.SECONDS.toNanos(30)) {
          TimeUnit.MILLISECONDS.sleep(20); // poll interval of a deadline-bounded wait
          applied = raftApplied(apis.get(leader));
        }
        double catchUpMs = (System.nanoTime() - serving) / 1e6;
        try {
          if (applied < target) {
            throw new AssertionError("applied Raft index " + applied + " of " + target);
          }
          restarted.awaitStatus("/health/ready", 200, 30_000);
        } catch (AssertionError | IllegalStateException stalled) {
          throw stalledCatchUp(stalled, procs, apis, leader, dir);
        }
        double readyMs = (System.nanoTime() - serving) / 1e6;
        System.out.printf(
            "restarted member: %d Raft entries behind the commit index when it served HTTP"
                + " (~%d writes), caught up %.0f ms later, ready %.0f ms later (peers %s)%n",
            target - appliedAtServing,
            behind,
            catchUpMs,
            readyMs,
            ownCpu ? "at nice 19" : "at the same CPU priority");
        assertTrue(
            applied >= target && catchUpMs < catchUpBoundMs,
            "caught up with Raft index "
                + target
                + " "
                + catchUpMs
                + " ms after serving HTTP, more than "
                + catchUpBoundMs);
      }
      stop.set(true);
      Future.join(new ArrayList<>(writers)).await(60, TimeUnit.SECONDS);
      double failoverMs = (firstAckAfterFault.get() - faultAt.get()) / 1e6;
      // 2 s for both: election time plus a margin (issue 10). A pause used to take up to 4.9 s:
      // the new client's guess of the silent former leader (RaftNode.clientGroup says why).
      double boundMs = 2000;
      System.out.println("next write acknowledged " + failoverMs + " ms after the " + fault);
      if (firstAckAfterFault.get() == 0 || failoverMs >= boundMs) {
        throw diagnosed(
            new AssertionError("next acknowledged write " + failoverMs + " ms after the " + fault),
            survivingProcs,
            faultWall,
            refusals,
            dir);
      }

      long maxIndex = acked.values().stream().mapToLong(Long::longValue).max().orElseThrow();
      for (Api api : survivors) {
        assertAllPresent(api, acked, maxIndex);
      }
      assertAllPresent(apis.get(leader), acked, maxIndex);
      String root = survivors.get(0).get("/ledger/head").bodyAsJsonObject().getString("rootHash");
      for (Api api : apis) {
        assertEquals(root, headAfterCatchUp(api, survivors.get(0)), "identical root on every node");
      }
    } finally {
      apis.forEach(Api::close);
      for (JarProcess p : procs) {
        p.signal("CONT");
        p.close();
      }
    }
  }

  /**
   * A slow or stalled failover, explained: when the fault happened, what the writers were answered,
   * the survivors' last Raft lines, and their thread dumps (SIGQUIT, into their stdout logs under
   * the kept test directory).
   */
  private static AssertionError diagnosed(
      AssertionError failure,
      List<JarProcess> survivors,
      java.time.Instant faultAt,
      Map<String, AtomicInteger> refusals,
      Path dir) {
    dumpThreads(survivors, failure);
    AssertionError explained =
        new AssertionError(
            failure.getMessage()
                + " (fault at "
                + faultAt
                + "; refusals until the first acknowledgement: "
                + refusals
                + "; thread dumps in the stdout logs under "
                + dir
                + "); what the others logged:\n"
                + survivors.stream().map(ClusterProcessIT::events).toList());
    explained.initCause(failure);
    return explained;
  }

  /**
   * The restarted member did not catch up (seen once in a clean-clone run: its log stopped growing
   * while the leader's went on, with nothing logged): thread dumps of every node into their stdout
   * logs, and what the leader and the member say of the member's progress.
   */
  private static AssertionError stalledCatchUp(
      Throwable failure, List<JarProcess> procs, List<Api> apis, int restarted, Path dir) {
    dumpThreads(procs, failure);
    StringBuilder seen = new StringBuilder();
    for (int i = 0; i < apis.size(); i++) {
      try {
        seen.append("\n")
            .append(i == restarted ? "restarted " : "other ")
            .append(apis.get(i).get("/cluster/status").bodyAsString())
            .append("\n  members: ")
            .append(apis.get(i).get("/cluster/members").bodyAsString());
      } catch (RuntimeException e) {
        seen.append("\n").append(i).append(": ").append(e);
      }
    }
    AssertionError explained =
        new AssertionError(
            "the restarted member did not catch up: "
                + failure.getMessage()
                + " (thread dumps in the stdout logs under "
                + dir
                + ")"
                + seen);
    explained.initCause(failure);
    return explained;
  }

  /** Has each node print its thread dump into its stdout log (SIGQUIT). */
  private static void dumpThreads(List<JarProcess> nodes, Throwable failure) {
    for (JarProcess p : nodes) {
      try {
        p.signal("QUIT");
      } catch (IOException | InterruptedException | IllegalStateException e) {
        failure.addSuppressed(e);
      }
    }
  }

  /** A node's last Raft and warning lines: why a failover took as long as it did. */
  private static String events(JarProcess p) {
    List<String> lines =
        p.stdout()
            .lines()
            .filter(l -> l.contains("leader") || l.contains("WARN") || l.contains("ERROR"))
            .toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
  }

  /** The Raft index this node has applied, from its own status. */
  static long raftApplied(Api api) {
    return api.get("/cluster/status").bodyAsJsonObject().getLong("raftAppliedIndex");
  }

  static long commitIndex(Api api) {
    return api.get("/cluster/status").bodyAsJsonObject().getLong("commitIndex");
  }

  static String url(JsonObject config) {
    return "http://127.0.0.1:" + config.getJsonObject("http").getInteger("port");
  }

  static void awaitAcked(Map<String, Long> acked, int count) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 60_000;
    while (acked.size() < count && System.currentTimeMillis() < deadline) {
      TimeUnit.MILLISECONDS.sleep(20);
    }
    assertTrue(
        acked.size() >= count, "only " + acked.size() + " of " + count + " writes acknowledged");
  }

  /**
   * Reads this node's own copy once it has applied {@code maxIndex}: every acknowledged write, at
   * its index.
   */
  static void assertAllPresent(Api api, Map<String, Long> acked, long maxIndex) {
    api.awaitApplied(maxIndex, 60_000);
    for (Map.Entry<String, Long> e : acked.entrySet()) {
      HttpResponse<Buffer> r = api.get("/kv/" + e.getKey() + "?minIndex=" + maxIndex);
      assertEquals(200, r.statusCode(), e.getKey() + ": " + r.bodyAsString());
      assertEquals("value of " + e.getKey(), r.bodyAsString());
      assertEquals(Long.toString(e.getValue()), r.getHeader("X-Ledger-Index"));
    }
  }

  static String headAfterCatchUp(Api api, Api reference) {
    long size = head(reference).getLong("treeSize");
    api.awaitApplied(size, 60_000);
    return head(api).getString("rootHash");
  }

  /**
   * The node's signed head, polled while it answers 503 with Retry-After (an election around a
   * restarted member); any other answer fails at once.
   */
  static JsonObject head(Api api) {
    long deadline = System.currentTimeMillis() + 30_000;
    HttpResponse<Buffer> r = api.get("/ledger/head");
    while (r.statusCode() == 503 && System.currentTimeMillis() < deadline) {
      r = api.get("/ledger/head");
    }
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  private static void writeLoop(
      Api api,
      AtomicInteger sequence,
      Map<String, Long> acked,
      AtomicBoolean stop,
      AtomicLong faultAt,
      AtomicLong firstAckAfterFault,
      Map<String, AtomicInteger> refusals,
      Promise<Void> done) {
    if (stop.get()) {
      done.tryComplete();
      return;
    }
    String key = "load-" + sequence.incrementAndGet();
    long sentAt = System.nanoTime();
    api.request(HttpMethod.PUT, "/kv/" + key)
        .sendBuffer(Buffer.buffer("value of " + key))
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result().statusCode() == 201) {
                acked.put(key, ar.result().bodyAsJsonObject().getLong("index"));
                // Only a write sent after the fault proves a new leader took over.
                if (faultAt.get() > 0 && sentAt > faultAt.get()) {
                  firstAckAfterFault.compareAndSet(0, System.nanoTime());
                }
              } else if (faultAt.get() > 0 && firstAckAfterFault.get() == 0) {
                // What the writers met until the first acknowledgement: a slow failover's trail.
                String what =
                    ar.failed()
                        ? ar.cause().getClass().getSimpleName()
                        : ar.result().statusCode()
                            + " "
                            + ar.result().bodyAsJsonObject().getString("error")
                            + " at +"
                            + (System.nanoTime() - faultAt.get()) / 250_000_000 * 250
                            + " ms";
                refusals.computeIfAbsent(what, k -> new AtomicInteger()).incrementAndGet();
              }
              writeLoop(api, sequence, acked, stop, faultAt, firstAckAfterFault, refusals, done);
            });
  }
}
