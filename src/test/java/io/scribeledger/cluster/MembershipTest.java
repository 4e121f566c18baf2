package io.scribeledger.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.Await;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fourth node joins a cluster with data and becomes a voter; the leader leaves; writes go on
 * throughout.
 */
@ExtendWith(VertxExtension.class)
class MembershipTest {

  @Test
  void joinCatchUpPromoteThenTheLeaderLeaves(Vertx vertx, @TempDir Path dir) throws Exception {
    List<JsonObject> configs = new ArrayList<>(TestCluster.configs(dir, 3, ClusterTest.FAST));
    configs.add(TestCluster.joiner(dir, "n4", configs, ClusterTest.FAST));
    List<TestNode> nodes = new ArrayList<>(TestCluster.start(configs.subList(0, 3)));
    List<Api> apis = new ArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    Map<String, Long> acked = new ConcurrentHashMap<>();
    AtomicInteger refused = new AtomicInteger();
    CompletableFuture<Void> writer = null;
    try {
      nodes.forEach(n -> apis.add(new Api(vertx, n.httpPort(), 4)));
      for (int i = 0; i < 60; i++) {
        assertEquals(201, apis.get(i % 3).put("/kv/before-" + i, "b" + i).statusCode());
      }
      // The newcomer boots knowing the group (itself included) but is no member until the join.
      nodes.add(TestNode.launch(configs.get(3)));
      apis.add(new Api(vertx, nodes.get(3).httpPort(), 4));
      writer =
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; !stop.get(); i++) {
                  String key = "during-" + i;
                  HttpResponse<Buffer> r = apis.get(1 + i % 2).put("/kv/" + key, key);
                  if (r.statusCode() == 201) {
                    acked.put(key, r.bodyAsJsonObject().getLong("index"));
                  } else {
                    assertEquals(503, r.statusCode(), r.bodyAsString());
                    refused.incrementAndGet();
                  }
                }
              });

      for (Api api : apis.subList(0, 3)) {
        assertEquals(
            3,
            api.get("/cluster/members").bodyAsJsonObject().getJsonArray("members").size(),
            "n4 is no member yet");
      }
      JsonObject raft4 = configs.get(3).getJsonObject("raft");
      JsonObject join =
          new JsonObject()
              .put("nodeId", "n4")
              .put("raftAddress", "127.0.0.1:" + raft4.getInteger("port"))
              .put(
                  "httpAddress",
                  "127.0.0.1:" + configs.get(3).getJsonObject("http").getInteger("port"));
      HttpResponse<Buffer> joined =
          apis.get(1).send(HttpMethod.POST, "/cluster/join", join.toBuffer(), null);
      assertEquals(200, joined.statusCode(), joined.bodyAsString());
      assertTrue(joined.bodyAsJsonObject().getBoolean("voter"));
      for (Api api : apis.subList(0, 3)) {
        // Each node lists its own Raft configuration: a follower outside the majority that
        // committed the change learns it with the leader's next append.
        Await.until(
            "every node lists n4 as a voter",
            10_000,
            () -> {
              JsonArray m = api.get("/cluster/members").bodyAsJsonObject().getJsonArray("members");
              return m != null && m.size() == 4 && find(m, "n4").getBoolean("voter");
            });
        JsonArray members = api.get("/cluster/members").bodyAsJsonObject().getJsonArray("members");
        assertEquals(4, members.size(), members::encode);
        JsonObject n4 = find(members, "n4");
        assertTrue(n4.getBoolean("voter"));
        assertEquals(
            join.getString("httpAddress"),
            n4.getString("httpAddress"),
            "address known on every node");
      }
      apis.get(3).awaitApplied(60, 30_000);
      assertEquals(
          "b7",
          apis.get(3).get("/kv/before-7?consistency=stale").bodyAsString(),
          "the newcomer has the data");

      String leader = apis.get(0).get("/cluster/leader").bodyAsJsonObject().getString("leaderId");
      HttpResponse<Buffer> left =
          apis.get(3)
              .send(
                  HttpMethod.POST,
                  "/cluster/leave",
                  new JsonObject().put("nodeId", leader).toBuffer(),
                  null);
      assertEquals(200, left.statusCode(), left.bodyAsString());
      int gone = Integer.parseInt(leader.substring(1)) - 1;
      Api survivor = apis.get(gone == 3 ? 0 : 3);
      long deadline = System.currentTimeMillis() + 10_000;
      String newLeader = leader;
      while (newLeader.equals(leader) && System.currentTimeMillis() < deadline) {
        HttpResponse<Buffer> l = survivor.get("/cluster/leader");
        newLeader = l.statusCode() == 200 ? l.bodyAsJsonObject().getString("leaderId") : leader;
      }
      assertNotEquals(leader, newLeader, "leadership moved off the leaving node");
      Await.until(
          "the survivor lists three members",
          10_000,
          () -> {
            JsonArray m =
                survivor.get("/cluster/members").bodyAsJsonObject().getJsonArray("members");
            return m != null && m.size() == 3;
          });
      JsonArray members =
          survivor.get("/cluster/members").bodyAsJsonObject().getJsonArray("members");
      assertEquals(3, members.size(), members::encode);
      assertTrue(
          members.stream().noneMatch(m -> ((JsonObject) m).getString("nodeId").equals(leader)));

      int before = acked.size();
      long until = System.currentTimeMillis() + 10_000;
      while (acked.size() < before + 20 && System.currentTimeMillis() < until) {
        Thread.onSpinWait();
      }
      stop.set(true);
      writer.join();
      assertTrue(
          acked.size() >= before + 20, "writes go on after the leader left: " + acked.size());
      // Every acknowledged write, on every remaining node, once that node has applied the highest
      // of them.
      long maxIndex = acked.values().stream().mapToLong(Long::longValue).max().orElse(0);
      for (int i = 0; i < 4; i++) {
        if (i != gone) {
          apis.get(i).awaitApplied(maxIndex, 30_000);
          for (String key : acked.keySet()) {
            assertEquals(
                key, apis.get(i).get("/kv/" + key + "?consistency=stale").bodyAsString(), key);
          }
        }
      }
      System.out.printf(
          "membership: %d writes acknowledged during join and leave, %d refused with 503%n",
          acked.size(), refused.get());
    } finally {
      stop.set(true);
      if (writer != null) {
        writer.exceptionally(e -> null).join();
      }
      apis.forEach(Api::close);
      nodes.forEach(TestNode::close);
    }
  }

  static JsonObject find(JsonArray members, String id) {
    return members.stream()
        .map(JsonObject.class::cast)
        .filter(m -> m.getString("nodeId").equals(id))
        .findFirst()
        .orElseThrow(() -> new AssertionError(id + " missing from " + members.encode()));
  }
}
