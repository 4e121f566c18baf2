package io.scribeledger.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.History;
import io.scribeledger.support.HttpProbe;
import io.scribeledger.support.JarProcess;
import io.scribeledger.support.NetNamespaces;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
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
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes in three network namespaces on a bridge. The leader is cut off from the
 * others (its Raft link down; the test still reaches its HTTP): the cut-off node acknowledges no
 * write, the majority elects a leader and goes on; after the link is healed, and a follower is
 * paused (SIGSTOP) and resumed, every node converges to one root with every acknowledged write, and
 * the clients' history is linearizable.
 */
@ExtendWith(VertxExtension.class)
class PartitionIT {

  static final long ELECTION_MAX_MS = 600;

  @Test
  void aCutOffLeaderTakesNoWriteAndTheHealedClusterConverges(Vertx vertx, @TempDir Path dir)
      throws Exception {
    try (NetNamespaces net = NetNamespaces.create(3)) {
      List<JsonObject> configs = configs(net, dir);
      List<JarProcess> procs = new ArrayList<>();
      List<Api> apis = new ArrayList<>();
      History history = new History();
      AtomicBoolean stop = new AtomicBoolean();
      List<Future<Void>> clients = new ArrayList<>();
      try {
        for (int i = 1; i <= 3; i++) {
          procs.add(
              JarProcess.start(
                  dir.resolve("work-n" + i), configs.get(i - 1), Map.of(), net.exec(i)));
        }
        for (int i = 1; i <= 3; i++) {
          new HttpProbe("http://" + net.clientIp(i) + ":8080").awaitStatus("/health", 200, 90_000);
          apis.add(new Api(vertx, net.clientIp(i), 8080, 4));
        }
        for (int c = 0; c < 6; c++) {
          Promise<Void> done = Promise.promise();
          clients.add(done.future());
          int node = c % 3;
          // Keys n<node>c<client>-<seq>: the node a write went to is in its name.
          CrashRoundsIT.clientLoop(
              vertx,
              apis.get(node),
              "n" + (node + 1) + "c" + c,
              new Random(c),
              new AtomicInteger(),
              history,
              stop,
              done);
        }
        TimeUnit.SECONDS.sleep(2); // load before the fault

        int leader = apis.get(0).leaderNumber();
        long cutAt = System.nanoTime();
        net.cut(leader);
        TimeUnit.SECONDS.sleep(5);
        JsonObject majorityLeader = null;
        for (int i = 1; i <= 3; i++) {
          if (i != leader) {
            majorityLeader = apis.get(i - 1).get("/cluster/leader").bodyAsJsonObject();
          }
        }
        long healAt = System.nanoTime();
        net.heal(leader);
        assertTrue(
            majorityLeader != null && !("n" + leader).equals(majorityLeader.getString("leaderId")),
            "the majority elected a leader of its own: " + majorityLeader);

        TimeUnit.SECONDS.sleep(2);
        int paused = leader % 3 + 1; // some member, paused then resumed
        procs.get(paused - 1).signal("STOP");
        TimeUnit.SECONDS.sleep(3);
        procs.get(paused - 1).signal("CONT");
        TimeUnit.SECONDS.sleep(2);
        stop.set(true);
        Future.join(new ArrayList<>(clients)).await(60, TimeUnit.SECONDS);

        List<History.Write> acked = history.writes();
        long margin = TimeUnit.MILLISECONDS.toNanos(ELECTION_MAX_MS);
        for (History.Write w : acked) {
          boolean toCutOff = w.key().startsWith("n" + leader + "c");
          assertTrue(
              !toCutOff || w.startNanos() < cutAt + margin || w.endNanos() > healAt,
              "the cut-off node acknowledged " + w + " while it was cut off");
        }
        long majorityAcks =
            acked.stream()
                .filter(w -> !w.key().startsWith("n" + leader + "c"))
                .filter(w -> w.startNanos() > cutAt + 2 * margin && w.endNanos() < healAt)
                .count();
        assertTrue(
            majorityAcks > 0, "the majority acknowledged writes while the leader was cut off");

        JsonObject head = CrashRoundsIT.sameHeadEverywhere(apis);
        for (Api api : apis) {
          for (History.Write w : acked) {
            HttpResponse<Buffer> r = api.get("/kv/" + w.key());
            assertEquals(200, r.statusCode(), w.key() + ": " + r.bodyAsString());
            assertEquals(Long.toString(w.index()), r.getHeader("X-Ledger-Index"), w.key());
          }
          history.assertNoFork(api, head);
        }
        history.assertLinearizable();
        System.out.printf(
            "partition of n%d for 5 s, pause of n%d for 3 s: %d writes acknowledged (%d by the"
                + " majority while cut), %d reads checked, tree size %d%n",
            leader, paused, acked.size(), majorityAcks, history.reads(), head.getLong("treeSize"));
      } finally {
        stop.set(true);
        apis.forEach(Api::close);
        for (JarProcess p : procs) {
          p.signal("CONT");
          p.close();
        }
      }
    }
  }

  private static List<JsonObject> configs(NetNamespaces net, Path dir) {
    JsonArray peers = new JsonArray();
    for (int i = 1; i <= 3; i++) {
      peers.add(
          new JsonObject()
              .put("id", "n" + i)
              .put("raftAddress", net.clusterIp(i) + ":9080")
              .put("httpAddress", net.clientIp(i) + ":8080"));
    }
    List<JsonObject> configs = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      configs.add(
          new JsonObject()
              .put(
                  "node",
                  new JsonObject()
                      .put("id", "n" + i)
                      .put("dataDir", dir.resolve("n" + i).toString()))
              .put("http", new JsonObject().put("host", net.clientIp(i)).put("port", 8080))
              .put(
                  "raft",
                  new JsonObject()
                      .put("host", net.clusterIp(i))
                      .put("port", 9080)
                      .put("peers", peers.copy())
                      .put("requestTimeoutMs", 3000))
              // The nodes listen on addresses of private network namespaces only this test
              // reaches; TLS and tokens are SecurityTest's subject, partitions this one's.
              .put("security", new JsonObject().put("allowInsecure", true)));
    }
    return configs;
  }
}
