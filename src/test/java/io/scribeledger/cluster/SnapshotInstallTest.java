package io.scribeledger.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots let the leader purge its log; a follower behind the purge point catches up by snapshot
 * install.
 */
@ExtendWith(VertxExtension.class)
public class SnapshotInstallTest {

  /**
   * Snapshots every 40 entries, 1.2 MB Raft log segments, 256 KiB ledger segments: a few hundred
   * writes purge the log behind a snapshot (also used by the tiered snapshot-install test).
   */
  public static final JsonObject SMALL =
      new JsonObject()
          .put(
              "raft",
              new JsonObject()
                  .put("snapshotEveryEntries", 40)
                  .put("logSegmentSizeBytes", 1_200_000)
                  .put("requestTimeoutMs", 5000))
          .put("limits", new JsonObject().put("maxValueBytes", 65536))
          .put("storage", new JsonObject().put("segmentSizeBytes", 256 * 1024));

  @Test
  void followerBehindThePurgedLogCatchesUpBySnapshot(Vertx vertx, @TempDir Path dir)
      throws Exception {
    List<JsonObject> configs = TestCluster.configs(dir, 3, SMALL);
    List<TestNode> nodes = new ArrayList<>(TestCluster.start(configs));
    List<Api> apis = new ArrayList<>();
    try {
      nodes.forEach(n -> apis.add(new Api(vertx, n.httpPort(), 16)));
      int leader = apis.get(0).leaderNumber() - 1;
      int follower = (leader + 1) % 3;
      for (int i = 0; i < 10; i++) {
        assertEquals(201, apis.get(leader).put("/kv/early-" + i, "e" + i).statusCode());
      }
      nodes.get(follower).close();
      apis.get(follower).close();

      String big = "x".repeat(4096);
      List<Future<HttpResponse<Buffer>>> writes = new ArrayList<>();
      for (int i = 0; i < 700; i++) {
        writes.add(
            apis.get(leader)
                .request(HttpMethod.PUT, "/kv/while-away-" + i)
                .sendBuffer(Buffer.buffer(i + big)));
      }
      Future.all(writes).await(120, TimeUnit.SECONDS);
      writes.forEach(w -> assertEquals(201, w.result().statusCode()));
      JsonObject leaderMetrics = apis.get(leader).get("/metrics").bodyAsJsonObject();
      assertTrue(
          leaderMetrics.getJsonObject("snapshots").getLong("taken") >= 1, leaderMetrics::encode);
      assertTrue(
          oldestLogIndex(configs.get(leader)) > 11,
          "the leader purged the log the follower would need");

      nodes.set(follower, TestNode.start(configs.get(follower)));
      apis.set(follower, new Api(vertx, nodes.get(follower).httpPort(), 16));
      long size = apis.get(leader).ledgerSize();
      long restartedAt = System.currentTimeMillis();
      apis.get(follower).awaitApplied(size, 90_000);
      System.out.printf(
          "follower caught up %d ms after its restart%n", System.currentTimeMillis() - restartedAt);
      JsonObject snapshots =
          apis.get(follower).get("/metrics").bodyAsJsonObject().getJsonObject("snapshots");
      assertTrue(
          snapshots.getLong("installed") >= 1,
          "caught up by snapshot install: " + snapshots.encode());
      assertEquals("e3", apis.get(follower).get("/kv/early-3?consistency=stale").bodyAsString());
      assertEquals(
          417 + big, apis.get(follower).get("/kv/while-away-417?consistency=stale").bodyAsString());
      assertEquals(
          apis.get(leader).get("/ledger/head").bodyAsJsonObject().getString("rootHash"),
          apis.get(follower).get("/ledger/head").bodyAsJsonObject().getString("rootHash"),
          "identical root");
      JsonObject proof = apis.get(follower).get("/verify/early-5").bodyAsJsonObject();
      assertTrue(proof.getBoolean("verified"), proof::encode);

      // The caught-up follower keeps up with the log from there, and forwards writes.
      assertEquals(201, apis.get(follower).put("/kv/after-install", "a").statusCode());
      String root = apis.get(leader).get("/ledger/head").bodyAsJsonObject().getString("rootHash");
      for (Api api : apis) {
        assertEquals(root, api.get("/ledger/head").bodyAsJsonObject().getString("rootHash"));
      }
    } finally {
      apis.forEach(Api::close);
      nodes.forEach(TestNode::close);
    }
  }

  @Test
  void aNodeRestartsFromItsSnapshotAfterThePurge(Vertx vertx, @TempDir Path dir) throws Exception {
    JsonObject config = TestNode.config("n1", dir, SMALL);
    JsonObject head;
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort(), 16)) {
      List<Future<HttpResponse<Buffer>>> writes = new ArrayList<>();
      // Enough that the purge, which keeps the last snapshotEveryEntries entries, drops a whole
      // Raft log segment.
      for (int i = 0; i < 800; i++) {
        writes.add(
            api.request(HttpMethod.PUT, "/kv/r" + i)
                .sendBuffer(Buffer.buffer(i + "y".repeat(4096))));
      }
      Future.all(writes).await(120, TimeUnit.SECONDS);
      head = api.get("/ledger/head").bodyAsJsonObject();
    }
    assertTrue(oldestLogIndex(config) > 1, "the log was purged behind a snapshot");
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      JsonObject after = api.get("/ledger/head").bodyAsJsonObject();
      assertEquals(head.getLong("treeSize"), after.getLong("treeSize"));
      assertEquals(head.getString("rootHash"), after.getString("rootHash"));
      assertEquals(7 + "y".repeat(4096), api.get("/kv/r7").bodyAsString());
      assertEquals(801, api.put("/kv/next", "n").bodyAsJsonObject().getLong("index"));
    }
  }

  /**
   * The first index still in a node's Raft log, read from its segment file names
   * (log_<first>-<last>).
   */
  static long oldestLogIndex(JsonObject config) throws Exception {
    Path raft = Path.of(config.getJsonObject("node").getString("dataDir")).resolve("raft");
    long oldest = Long.MAX_VALUE;
    try (Stream<Path> files = Files.walk(raft)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        String name = f.getFileName().toString();
        if (name.startsWith("log_")) {
          String first = name.substring(4).replace("inprogress_", "").split("-", -1)[0];
          oldest = Math.min(oldest, Long.parseLong(first));
        }
      }
    }
    return oldest;
  }
}
