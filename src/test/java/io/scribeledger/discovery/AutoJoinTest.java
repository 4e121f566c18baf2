package io.scribeledger.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.Await;
import io.scribeledger.support.Ports;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Auto-join: a fourth node started with only the seeds and the discovery key is added by the leader
 * as a listener, promoted to voter, and serves linearizable reads; a node with a wrong key is never
 * added.
 */
@ExtendWith(VertxExtension.class)
class AutoJoinTest {

  static JsonObject discovery(int port, JsonArray seeds, Path keys) {
    return DiscoveryTest.fast(port, seeds, keys).put("autoJoin", true).put("autoJoinAfterMs", 1000);
  }

  static Path keys(Path dir, String name, String secret) throws Exception {
    return Files.writeString(
        dir.resolve(name),
        "k1:" + Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void aNodeWithTheKeyJoinsAsAVoterAndOneWithoutNever(Vertx vertx, @TempDir Path dir)
      throws Exception {
    Path good = keys(dir, "good", "the-cluster-secret-0123");
    Path bad = keys(dir, "bad", "a-guessed-secret-012345");
    int[] udp = {Ports.free(), Ports.free(), Ports.free(), Ports.free(), Ports.free()};
    JsonArray seeds = new JsonArray().add("127.0.0.1:" + udp[0]).add("127.0.0.1:" + udp[1]);
    List<JsonObject> configs = new ArrayList<>(TestCluster.configs(dir, 3, new JsonObject()));
    for (int i = 0; i < 3; i++) {
      configs.get(i).put("discovery", discovery(udp[i], seeds, good));
    }
    JsonObject n4 = TestCluster.joiner(dir, "n4", configs, new JsonObject());
    n4.put("discovery", discovery(udp[3], seeds, good));
    JsonObject n5 = TestCluster.joiner(dir, "n5", configs, new JsonObject());
    n5.put("discovery", discovery(udp[4], seeds, bad));
    List<TestNode> nodes = new ArrayList<>(TestCluster.start(configs));
    List<Api> apis = new ArrayList<>();
    try {
      nodes.forEach(n -> apis.add(new Api(vertx, n.httpPort(), 4)));
      Api leader = apis.get(apis.get(0).leaderNumber() - 1);
      for (int i = 0; i < 20; i++) {
        assertEquals(201, leader.put("/kv/before-" + i, "b" + i).statusCode());
      }
      nodes.add(TestNode.launch(n4));
      nodes.add(TestNode.launch(n5));
      Api api4 = new Api(vertx, nodes.get(3).httpPort(), 4);
      apis.add(api4);
      Await.until(
          "n4 is a voter",
          60_000,
          () -> {
            JsonObject m = leader.member("n4");
            return m.getBoolean("inRaft", false) && "FOLLOWER".equals(m.getString("role"));
          });
      assertEquals("b7", api4.get("/kv/before-7").bodyAsString(), "a linearizable read on n4");
      assertEquals(201, leader.put("/kv/after", "a").statusCode());
      assertEquals("a", api4.get("/kv/after").bodyAsString());
      // n5 has had as long as n4 needed, and more: never added, its packets dropped.
      Thread.sleep(3_000); // the window in which a wrongful join would have started
      assertFalse(
          leader.member("n5").getBoolean("inRaft", false), "a node without the key is never added");
      long badMacs =
          apis.get(0)
              .get("/metrics")
              .bodyAsJsonObject()
              .getJsonObject("discovery")
              .getJsonObject("dropped")
              .getLong("bad_mac");
      assertTrue(badMacs > 0, "n5's datagrams are dropped: " + badMacs);
    } finally {
      apis.forEach(Api::close);
      nodes.forEach(TestNode::close);
    }
  }
}
