package io.scribeledger.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.Await;
import io.scribeledger.support.History;
import io.scribeledger.support.HttpProbe;
import io.scribeledger.support.JarProcess;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.scribeledger.support.Tmpfs;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A node whose disk fills up, on a real small file system (tmpfs): above the free-space floor it
 * refuses writes cleanly (507) and resumes when space returns, without a restart; with the floor
 * off the apply that hits ENOSPC fails stop (exit 3) and the restart loses no acknowledged write
 * and never signs two trees of one size; the leader of three hands over, fails stop as a follower
 * when its disk is full, and converges after a restart with space.
 */
@ExtendWith(VertxExtension.class)
class DiskFullIT {

  static final int VALUE_BYTES = 256 * 1024;
  static final long MIB = 1024 * 1024;

  @ParameterizedTest(name = "{0} on a full disk")
  @ValueSource(strings = {"segments", "raft"})
  void belowTheFloorWritesAreRefusedCleanlyAndResumeWhenSpaceReturns(
      String dirOnSmallDisk, Vertx vertx, @TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    JsonObject config =
        TestNode.config(
            "n1",
            data,
            new JsonObject().put("storage", new JsonObject().put("minFreeBytes", 8 * MIB)));
    int port = config.getJsonObject("http").getInteger("port");
    try (Tmpfs disk = Tmpfs.mount(data.resolve(dirOnSmallDisk), 24 * MIB);
        JarProcess node = CrashRecoveryIT.startNode(dir, config);
        Api api = new Api(vertx, port, 4)) {
      Random random = new Random(5);
      Map<String, byte[]> acked = new HashMap<>();
      int refused = 0;
      boolean settled = false;
      // Admission counts what each write may cost, so the first 507s can come a little early and
      // a fresh reading may let a few more in; writing goes on until every write is refused and
      // the node has reported not ready across a few readings (0.5 s apart).
      for (int i = 0; i < 400 && !settled; i++) {
        byte[] value = new byte[VALUE_BYTES];
        random.nextBytes(value);
        HttpResponse<Buffer> r = api.put("/kv/fill-" + i, value, "application/octet-stream");
        if (r.statusCode() == 201) {
          acked.put("fill-" + i, value);
        } else {
          assertEquals(507, r.statusCode(), r.bodyAsString());
          assertEquals("insufficient_storage", r.bodyAsJsonObject().getString("error"));
          assertEquals("1", r.getHeader("Retry-After"));
          refused++;
          settled = notReadyThroughout(api, 1500);
        }
      }
      assertTrue(refused > 0 && settled, "the floor was reached within 400 writes of 256 KiB");
      assertFalse(acked.isEmpty(), "writes were acknowledged before the floor");
      long size = api.ledgerSize();
      HttpProbe probe = new HttpProbe("http://127.0.0.1:" + port);
      JsonObject ready = api.get("/health/ready").bodyAsJsonObject();
      assertTrue(ready.getString("reason", "").contains("storage.minFreeBytes"), ready.encode());
      assertEquals(507, api.put("/kv/refused", "x").statusCode(), "still refused below the floor");
      assertEquals(size, api.ledgerSize(), "a refused write changes nothing");
      assertAllPresent(api, acked); // reads go on

      disk.resize(256 * MIB);
      probe.awaitStatus("/health/ready", 200, 10_000);
      HttpResponse<Buffer> after = api.put("/kv/after", "space is back");
      assertEquals(201, after.statusCode(), after.bodyAsString());
      assertEquals(size + 1, after.bodyAsJsonObject().getLong("index"));
      assertAllPresent(api, acked);
      assertTrue(node.isAlive(), "the node never stopped");
    }
  }

  @Test
  void withoutTheFloorTheApplyThatHitsEnospcFailsStopAndTheRestartLosesNothing(
      Vertx vertx, @TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    JsonObject config =
        TestNode.config(
            "n1", data, new JsonObject().put("storage", new JsonObject().put("minFreeBytes", 0)));
    int port = config.getJsonObject("http").getInteger("port");
    Map<String, byte[]> acked = new HashMap<>();
    History history = new History();
    try (Tmpfs disk = Tmpfs.mount(data.resolve("segments"), 6 * MIB)) {
      try (JarProcess node = CrashRecoveryIT.startNode(dir, config);
          Api api = new Api(vertx, port, 4)) {
        Random random = new Random(7);
        boolean stopped = false;
        for (int i = 0; i < 100 && !stopped; i++) {
          byte[] value = new byte[VALUE_BYTES];
          random.nextBytes(value);
          HttpResponse<Buffer> r;
          long start = System.nanoTime();
          try {
            r = api.put("/kv/fill-" + i, value, "application/octet-stream");
          } catch (RuntimeException connectionGone) {
            break; // the node exited under the request
          }
          history.wrote("fill-" + i, start, r);
          if (r.statusCode() == 201) {
            acked.put("fill-" + i, value);
          } else {
            assertTrue(
                r.statusCode() == 503,
                "a write it could not store is never 2xx: " + r.statusCode());
            stopped = true;
          }
        }
        assertEquals(
            3, node.awaitExit(30_000), "exit code of a fail-stop; stderr: " + node.stderr());
        assertTrue(
            node.stdout().contains("failed stop while applying Raft entry"),
            "one ERROR line says why: " + node.stdout());
      }
      assertFalse(acked.isEmpty(), "writes were acknowledged before the disk filled");

      disk.resize(256 * MIB);
      try (JarProcess restarted = CrashRecoveryIT.startNode(dir, config);
          Api api = new Api(vertx, port, 4)) {
        assertAllPresent(api, acked);
        for (History.Write w : history.writes()) {
          assertEquals(
              Long.toString(w.index()),
              api.get("/kv/" + w.key()).getHeader("X-Ledger-Index"),
              w.key() + " keeps the index of its receipt");
        }
        history.assertNoFork(api, api.get("/ledger/head").bodyAsJsonObject());
        HttpResponse<Buffer> next = api.put("/kv/after-restart", "n");
        assertEquals(201, next.statusCode(), next.bodyAsString());
        assertTrue(restarted.isAlive());
      }
    }
  }

  /**
   * The leader of three on a small real disk (its segment or Raft log directory on a tmpfs, the
   * others with space). Below its floor it refuses at admission (507) and hands leadership to a
   * member with space; writes go on through it. As a follower it still stores what the leader
   * appends, so its disk fills for good: it fails stop (exit 3) and the other two go on. With space
   * back it restarts and converges: every acknowledged write on every node at the index of its
   * receipt, one root everywhere, and no two heads or receipts ever seen claim two roots for one
   * tree size.
   */
  @ParameterizedTest(name = "{0} of the leader of three on a full disk")
  @ValueSource(strings = {"segments", "raft"})
  void theLeaderOfThreeOnAFullDiskHandsOverFailsStopAndConverges(
      String dirOnSmallDisk, Vertx vertx, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir)
      throws Exception {
    List<JsonObject> configs = TestCluster.configs(dir, 3, new JsonObject());
    configs.get(0).put("storage", new JsonObject().put("minFreeBytes", 8 * MIB));
    Path n1Data = Path.of(configs.get(0).getJsonObject("node").getString("dataDir"));
    Map<String, byte[]> acked = new HashMap<>();
    Map<Long, String> rootBySize = new HashMap<>();
    History history = new History();
    List<JarProcess> procs = new ArrayList<>();
    List<Api> apis = new ArrayList<>();
    try (Tmpfs disk = Tmpfs.mount(n1Data.resolve(dirOnSmallDisk), 24 * MIB)) {
      try {
        for (int i = 0; i < 3; i++) {
          procs.add(JarProcess.start(dir.resolve("work-n" + (i + 1)), configs.get(i), Map.of()));
        }
        for (JsonObject c : configs) {
          new HttpProbe(ClusterProcessIT.url(c)).awaitStatus("/health", 200, 90_000);
          apis.add(new Api(vertx, c.getJsonObject("http").getInteger("port"), 4));
        }
        Await.until("a leader", 20_000, () -> leaderSeenBy(apis.get(1)) > 0);
        if (leaderSeenBy(apis.get(1)) != 1) {
          try (RaftClient raw = TestCluster.rawRaftClient(configs)) {
            assertTrue(
                raw.admin().transferLeadership(RaftPeerId.valueOf("n1"), 10_000).isSuccess(),
                "leadership moved to n1, the member with the small disk");
          }
        }
        Await.until("n1 leads", 20_000, () -> leaderSeenBy(apis.get(1)) == 1);

        Random random = new Random(11);
        int refused = 0;
        int ackedAfterExit = 0;
        boolean handedOver = false;
        for (int i = 0; i < 600 && ackedAfterExit < 10; i++) {
          // Round robin over the members still running: the low one, and the two with space.
          Api api = apis.get(procs.get(0).isAlive() ? i % 3 : 1 + i % 2);
          byte[] value = new byte[VALUE_BYTES];
          random.nextBytes(value);
          String key = "fill-" + i;
          long start = System.nanoTime();
          HttpResponse<Buffer> r;
          try {
            r = api.put("/kv/" + key, value, "application/octet-stream");
          } catch (Exception connectionGone) { // Future.await rethrows ConnectException as is
            continue; // n1 exited under the request
          }
          history.wrote(key, start, r);
          if (r.statusCode() == 201) {
            acked.put(key, value);
            ackedAfterExit += procs.get(0).isAlive() ? 0 : 1;
          } else {
            // 507 below the floor, 503 while leadership moves or as n1 stops: never a 2xx
            // for a write that was not stored.
            assertTrue(
                r.statusCode() == 507 || r.statusCode() == 503,
                "refused with " + r.statusCode() + ": " + r.bodyAsString());
            refused += r.statusCode() == 507 ? 1 : 0;
          }
          if (procs.get(0).isAlive() && leaderSeenBy(apis.get(1)) > 1) {
            handedOver = true;
          }
          for (Api each : apis) {
            recordHead(each, rootBySize);
          }
        }
        assertTrue(refused > 0, "the low leader refused writes at admission with 507");
        assertTrue(handedOver, "the low leader handed leadership to a member with space");
        assertEquals(
            3,
            procs.get(0).awaitExit(30_000),
            "n1 fails stop once its disk is full; stderr: " + procs.get(0).stderr());
        assertTrue(
            procs.get(0).stdout().contains("failed stop while"),
            "one ERROR line says why: " + procs.get(0).stdout());
        assertEquals(10, ackedAfterExit, "the other two went on without it");

        disk.resize(256 * MIB);
        procs.set(0, JarProcess.start(dir.resolve("work-n1-restarted"), configs.get(0), Map.of()));
        new HttpProbe(ClusterProcessIT.url(configs.get(0)))
            .awaitStatus("/health/ready", 200, 90_000);
        JsonObject head = CrashRoundsIT.sameHeadEverywhere(apis);
        Map<String, Long> receiptIndex = new HashMap<>();
        history.writes().forEach(w -> receiptIndex.put(w.key(), w.index()));
        for (Api api : apis) {
          recordHead(api, rootBySize);
          // Each replica's own copy (a stale read, now that all hold the same tree).
          for (Map.Entry<String, byte[]> e : acked.entrySet()) {
            HttpResponse<Buffer> r = api.get("/kv/" + e.getKey() + "?consistency=stale");
            assertEquals(200, r.statusCode(), e.getKey() + ": " + r.bodyAsString());
            assertArrayEquals(e.getValue(), r.body().getBytes(), e.getKey());
            assertEquals(
                Long.toString(receiptIndex.get(e.getKey())),
                r.getHeader("X-Ledger-Index"),
                e.getKey() + " keeps the index of its receipt");
          }
          history.assertNoFork(api, head);
        }
        System.out.printf(
            "leader of three, %s on a full disk: %d writes acknowledged (%d after it stopped), %d"
                + " refused with 507, signed heads seen at %d tree sizes, final tree size"
                + " %d%n",
            dirOnSmallDisk,
            acked.size(),
            ackedAfterExit,
            refused,
            rootBySize.size(),
            head.getLong("treeSize"));
        for (History.Write w : history.writes()) {
          String seen = rootBySize.putIfAbsent(w.treeSize(), w.root());
          assertTrue(
              seen == null || seen.equals(w.root()),
              "a receipt and a head claim two roots for tree size " + w.treeSize());
        }
      } finally {
        apis.forEach(Api::close);
        for (JarProcess p : procs) {
          p.close();
        }
      }
    }
  }

  /** The leader a member names (0: none known, or the member does not answer). */
  static int leaderSeenBy(Api api) {
    try {
      return api.leaderNumber();
    } catch (Exception | AssertionError none) {
      return 0;
    }
  }

  /** Adds a member's signed head to those seen; two roots for one tree size fail at once. */
  private static void recordHead(Api api, Map<Long, String> rootBySize) {
    HttpResponse<Buffer> r;
    try {
      r = api.get("/ledger/head");
    } catch (Exception down) {
      return;
    }
    if (r.statusCode() != 200) {
      return;
    }
    JsonObject head = r.bodyAsJsonObject();
    String seen = rootBySize.putIfAbsent(head.getLong("treeSize"), head.getString("rootHash"));
    assertTrue(
        seen == null || seen.equals(head.getString("rootHash")),
        "two signed heads of tree size " + head.getLong("treeSize") + " with different roots");
  }

  /** Whether readiness answers 503 on every poll for {@code ms} (false at the first 200). */
  static boolean notReadyThroughout(Api api, long ms) {
    long deadline = System.currentTimeMillis() + ms;
    do {
      if (api.get("/health/ready").statusCode() != 503) {
        return false;
      }
    } while (System.currentTimeMillis() < deadline);
    return true;
  }

  static void assertAllPresent(Api api, Map<String, byte[]> acked) {
    for (Map.Entry<String, byte[]> e : acked.entrySet()) {
      HttpResponse<Buffer> r =
          api.send(HttpMethod.GET, "/kv/" + e.getKey(), null, MultiMap.caseInsensitiveMultiMap());
      assertEquals(200, r.statusCode(), e.getKey() + ": " + r.bodyAsString());
      assertArrayEquals(e.getValue(), r.body().getBytes(), e.getKey());
    }
  }
}
