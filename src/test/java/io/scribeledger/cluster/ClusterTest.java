package io.scribeledger.cluster;

import static io.scribeledger.support.Assertions2.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.Await;
import io.scribeledger.support.HttpProbe;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
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
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Three real Raft nodes in one JVM on loopback: replication, forwarding, failover, minority. */
@ExtendWith(VertxExtension.class)
class ClusterTest {

  static final JsonObject FAST =
      new JsonObject().put("raft", new JsonObject().put("requestTimeoutMs", 3000));

  static String leaderOf(Api api) {
    return api.get("/cluster/leader").bodyAsJsonObject().getString("leaderId");
  }

  @Test
  void writesThroughEveryNodeReplicateToAll(Vertx vertx, @TempDir Path dir) {
    List<TestNode> nodes = TestCluster.start(TestCluster.configs(dir, 3, FAST));
    List<Api> apis = new ArrayList<>();
    try {
      nodes.forEach(n -> apis.add(new Api(vertx, n.httpPort())));
      // An election under start-up load may still move leadership: agreement is awaited.
      Await.until(
          "every node names the same leader",
          10_000,
          () -> {
            String first = leaderOf(apis.get(0));
            return first != null && apis.stream().allMatch(a -> first.equals(leaderOf(a)));
          });
      for (int i = 0; i < 30; i++) {
        HttpResponse<Buffer> r = apis.get(i % 3).put("/kv/k" + (i % 7), "v" + i);
        assertEquals(201, r.statusCode(), r.bodyAsString());
      }
      apis.get(1).delete("/kv/k2");
      for (Api api : apis) {
        // Linearizable by default, wherever it is read.
        assertEquals("v27", api.get("/kv/k6").bodyAsString());
        assertEquals(404, api.get("/kv/k2").statusCode());
        assertEquals("v0", api.get("/kv/k0?version=1").bodyAsString());
      }
      JsonObject history = apis.get(0).get("/history/k3").bodyAsJsonObject();
      JsonObject head = apis.get(0).get("/ledger/head").bodyAsJsonObject();
      for (Api api : apis) {
        assertEquals(history, api.get("/history/k3").bodyAsJsonObject());
        JsonObject h = api.get("/ledger/head").bodyAsJsonObject();
        assertEquals(head.getLong("treeSize"), h.getLong("treeSize"));
        assertEquals(
            head.getString("rootHash"), h.getString("rootHash"), "identical tree on every node");
        JsonObject status = api.get("/cluster/status").bodyAsJsonObject();
        assertEquals(3, status.getJsonArray("members").size());
        assertEquals(31, status.getLong("appliedIndex"));
      }
      JsonObject members = apis.get(2).get("/cluster/members").bodyAsJsonObject();
      assertEquals(3, members.getJsonArray("members").size());
      members
          .getJsonArray("members")
          .forEach(m -> assertTrue(((JsonObject) m).getBoolean("voter")));
    } finally {
      apis.forEach(Api::close);
      nodes.forEach(TestNode::close);
    }
  }

  @Test
  void leaderLossUnderLoadLosesNoAcknowledgedWriteAndTheNodeCatchesUp(
      Vertx vertx, @TempDir Path dir) {
    List<JsonObject> configs = TestCluster.configs(dir, 3, FAST);
    List<TestNode> nodes = new ArrayList<>(TestCluster.start(configs));
    List<Api> apis = new ArrayList<>();
    try {
      nodes.forEach(n -> apis.add(new Api(vertx, n.httpPort())));
      int leader = Integer.parseInt(leaderOf(apis.get(0)).substring(1)) - 1;
      int survivor = (leader + 1) % 3;
      Map<String, String> acked = new ConcurrentHashMap<>();
      for (int i = 0; i < 50; i++) {
        write(apis.get(i % 3), "before-" + i, acked);
      }
      nodes.get(leader).close();
      long killedAt = System.nanoTime();
      long firstAckAfter = -1;
      int attempts = 0;
      while (System.nanoTime() - killedAt < 20_000_000_000L && acked.size() < 50 + 40) {
        if (write(apis.get(survivor), "after-" + attempts++, acked) && firstAckAfter < 0) {
          firstAckAfter = System.nanoTime();
        }
      }
      assertTrue(firstAckAfter > 0, "writes resumed after the leader was lost");
      double failoverMs = (firstAckAfter - killedAt) / 1e6;
      assertTrue(failoverMs < 2000, "failover took " + failoverMs + " ms");
      for (int n = 0; n < 3; n++) {
        if (n != leader) {
          assertAllPresent(apis.get(n), acked);
        }
      }
      apis.get(leader).close();
      nodes.set(leader, TestNode.start(configs.get(leader)));
      apis.set(leader, new Api(vertx, nodes.get(leader).httpPort()));
      long size = apis.get(survivor).get("/ledger/head").bodyAsJsonObject().getLong("treeSize");
      apis.get(leader).awaitApplied(size, 60_000);
      assertAllPresent(apis.get(leader), acked);
      assertEquals(
          apis.get(survivor).get("/ledger/head").bodyAsJsonObject().getString("rootHash"),
          apis.get(leader).get("/ledger/head").bodyAsJsonObject().getString("rootHash"),
          "identical root after catch-up");
    } finally {
      apis.forEach(Api::close);
      nodes.forEach(TestNode::close);
    }
  }

  @Test
  void aMinorityAcceptsNoWrite(Vertx vertx, @TempDir Path dir) {
    List<TestNode> nodes = TestCluster.start(TestCluster.configs(dir, 3, FAST));
    Api lonely = new Api(vertx, nodes.get(0).httpPort());
    try {
      HttpResponse<Buffer> whole = lonely.put("/kv/while-whole", "w");
      assertEquals(201, whole.statusCode());
      // A follower applies a write it forwarded just after the leader acknowledged it.
      lonely.awaitApplied(whole.bodyAsJsonObject().getLong("index"), 10_000);
      long sizeBefore = lonely.ledgerSize();
      nodes.get(1).close();
      nodes.get(2).close();
      for (int i = 0; i < 3; i++) {
        HttpResponse<Buffer> r = lonely.put("/kv/minority-" + i, "must not be acknowledged");
        assertEquals(503, r.statusCode(), r.bodyAsString());
        String code = r.bodyAsJsonObject().getString("error");
        assertTrue(code.equals("no_leader") || code.equals("timeout"), code);
      }
      assertEquals(
          sizeBefore,
          lonely
              .send(HttpMethod.GET, "/metrics", null, null)
              .bodyAsJsonObject()
              .getJsonObject("ledger")
              .getLong("size"),
          "nothing was applied");
      new HttpProbe("http://127.0.0.1:" + nodes.get(0).httpPort())
          .awaitStatus("/health", 503, 10_000);
      assertError(
          lonely.get("/kv/while-whole"),
          503,
          lonely.get("/kv/while-whole").bodyAsJsonObject().getString("error"));
      assertEquals(
          "w",
          lonely.get("/kv/while-whole?consistency=stale").bodyAsString(),
          "stale reads still serve");
    } finally {
      lonely.close();
      nodes.forEach(TestNode::close);
    }
  }

  static boolean write(Api api, String key, Map<String, String> acked) {
    String value = "value of " + key;
    try {
      HttpResponse<Buffer> r = api.put("/kv/" + key, value);
      if (r.statusCode() == 201) {
        acked.put(key, value);
        return true;
      }
      assertEquals(503, r.statusCode(), r.bodyAsString());
      return false;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  /**
   * Every acknowledged write reads back; a 503 (election in progress) is retried as Retry-After
   * asks.
   */
  static void assertAllPresent(Api api, Map<String, String> acked) {
    for (Map.Entry<String, String> e : acked.entrySet()) {
      long deadline = System.currentTimeMillis() + 10_000;
      HttpResponse<Buffer> r = api.get("/kv/" + e.getKey());
      while (r.statusCode() == 503 && System.currentTimeMillis() < deadline) {
        r = api.get("/kv/" + e.getKey());
      }
      assertEquals(e.getValue(), r.bodyAsString(), e.getKey());
    }
  }
}
