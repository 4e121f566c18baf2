package io.scribeledger.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rotating the discovery key under traffic, as docs/OPERATIONS.md says (new key second everywhere,
 * then first, then the old one dropped; each step a rolling restart): no member is ever seen down,
 * and every datagram of the rotation is accepted.
 */
@ExtendWith(VertxExtension.class)
class KeyRotationTest {

  static String line(String id, String secret) {
    return id + ":" + Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aRollingKeyRotationTakesNoMemberDown(Vertx vertx, @TempDir Path dir) throws Exception {
    String oldKey = line("old", "the-old-secret-0123456");
    String newKey = line("new", "the-new-secret-0123456");
    int[] udp = {Ports.free(), Ports.free(), Ports.free()};
    JsonArray seeds = new JsonArray();
    for (int p : udp) {
      seeds.add("127.0.0.1:" + p);
    }
    List<JsonObject> configs = TestCluster.configs(dir, 3, new JsonObject());
    List<Path> keyFiles = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Path keys = Files.writeString(dir.resolve("keys-" + i), oldKey + "\n");
      keyFiles.add(keys);
      configs.get(i).put("discovery", DiscoveryTest.fast(udp[i], seeds, keys));
    }
    List<TestNode> nodes = new ArrayList<>(TestCluster.start(configs));
    List<String> downs = new CopyOnWriteArrayList<>();
    try {
      for (TestNode n : nodes) {
        watch(n, downs);
      }
      Api first = new Api(vertx, nodes.get(0).httpPort(), 4);
      Await.until("all alive", 10_000, () -> allAlive(first));
      first.close();
      // Three rolling steps; traffic (writes) and probes go on throughout.
      String[] steps = {oldKey + "\n" + newKey, newKey + "\n" + oldKey, newKey};
      for (String keys : steps) {
        for (int i = 0; i < 3; i++) {
          Files.writeString(keyFiles.get(i), keys + "\n");
          nodes.get(i).close();
          nodes.set(i, TestNode.start(configs.get(i)));
          watch(nodes.get(i), downs);
          try (Api api = new Api(vertx, nodes.get(i).httpPort(), 4)) {
            assertEquals(201, api.put("/kv/rotation-" + i, keys).statusCode());
            Await.until("all alive after a restart", 10_000, () -> allAlive(api));
          }
        }
      }
      try (Api api = new Api(vertx, nodes.get(0).httpPort(), 4)) {
        JsonObject dropped =
            api.get("/metrics")
                .bodyAsJsonObject()
                .getJsonObject("discovery")
                .getJsonObject("dropped");
        assertEquals(0, dropped.getLong("unknown_key"), dropped::encode);
        assertEquals(0, dropped.getLong("bad_mac"), dropped::encode);
      }
      assertTrue(downs.isEmpty(), "members seen down during the rotation: " + downs);
    } finally {
      nodes.forEach(TestNode::close);
    }
  }

  static void watch(TestNode node, List<String> downs) {
    node.vertx()
        .eventBus()
        .<Object>consumer(
            DiscoveryVerticle.EVENTS,
            m -> {
              MemberEvent e = (MemberEvent) m.body();
              if (e.now() == Packet.Status.DOWN || e.now() == Packet.Status.SUSPECT) {
                downs.add(e.toString());
              }
            });
  }

  static boolean allAlive(Api api) {
    return api.get("/cluster/members").bodyAsJsonObject().getJsonArray("members").stream()
        .map(JsonObject.class::cast)
        .allMatch(m -> "alive".equals(m.getString("status")));
  }
}
