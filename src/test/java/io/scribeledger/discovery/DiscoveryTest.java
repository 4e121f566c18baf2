package io.scribeledger.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
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
 * Discovery in three in-process nodes over real UDP sockets on loopback (fast timings): every
 * member alive in /cluster/members beside its Raft role, events on the event bus, a graceful stop
 * seen as left and a restart as alive with a higher incarnation; datagrams from a stranger and
 * replays of real ones dropped by reason; key files checked.
 */
@ExtendWith(VertxExtension.class)
class DiscoveryTest {

  /**
   * Discovery on loopback with fast timings (200 ms rounds) for in-process tests: {@code port},
   * announced to {@code seeds}, keys from {@code keys}.
   */
  static JsonObject fast(int port, JsonArray seeds, Path keys) {
    return new JsonObject()
        .put("enabled", true)
        .put("port", port)
        .put("seeds", seeds)
        .put("keyFile", keys.toString())
        .put("intervalMs", 200)
        .put("probeTimeoutMs", 60)
        .put("suspicionMinMs", 1000)
        .put("suspicionMaxMs", 2000);
  }

  static Path keyFile(Path dir) throws Exception {
    return Files.writeString(
        dir.resolve("keys"),
        "# rotation: the first key sends, both are accepted\n"
            + "k2:"
            + Base64.getEncoder()
                .encodeToString(
                    "second-key-0123456789".getBytes(java.nio.charset.StandardCharsets.UTF_8))
            + "\nk1:"
            + Base64.getEncoder()
                .encodeToString(
                    "first-key-0123456789!".getBytes(java.nio.charset.StandardCharsets.UTF_8))
            + "\n");
  }

  @Test
  void membersAreSeenAliveLeaveAndComeBack(Vertx vertx, @TempDir Path dir) throws Exception {
    Path keys = keyFile(dir);
    int[] udp = {Ports.free(), Ports.free(), Ports.free()};
    JsonArray seeds = new JsonArray().add("127.0.0.1:" + udp[0]);
    List<JsonObject> configs = TestCluster.configs(dir, 3, new JsonObject());
    for (int i = 0; i < 3; i++) {
      configs.get(i).put("discovery", fast(udp[i], seeds, keys));
    }
    List<TestNode> nodes = new ArrayList<>(TestCluster.start(configs));
    List<Api> apis = new ArrayList<>();
    try {
      nodes.forEach(n -> apis.add(new Api(vertx, n.httpPort(), 4)));
      List<MemberEvent> events = new CopyOnWriteArrayList<>();
      nodes
          .get(0)
          .vertx()
          .eventBus()
          .<Object>consumer(DiscoveryVerticle.EVENTS, m -> events.add((MemberEvent) m.body()));
      Await.until(
          "every node sees every member alive",
          10_000,
          () ->
              apis.stream()
                  .allMatch(
                      api ->
                          List.of("n1", "n2", "n3").stream()
                              .allMatch(id -> "alive".equals(api.member(id).getString("status")))));
      JsonObject n2 = apis.get(0).member("n2");
      assertEquals(true, n2.getBoolean("inRaft"), n2::encode);
      assertEquals(true, n2.getBoolean("inDiscovery"), n2::encode);
      assertEquals("127.0.0.1:" + udp[1], n2.getString("discoveryAddress"));
      assertTrue(n2.getLong("lastSeen") > 0, n2::encode);
      long incarnation = n2.getLong("incarnation");
      JsonObject status = apis.get(0).get("/cluster/status").bodyAsJsonObject();
      assertEquals(0, status.getLong("membersDown"), status::encode);

      // Raft's view beside discovery's: the leader knows every member's match index, a follower
      // only its own.
      int leader = apis.get(0).leaderNumber();
      long committed =
          apis.get(leader - 1).get("/cluster/status").bodyAsJsonObject().getLong("commitIndex");
      Await.until(
          "the leader reports every member's match index up to its commit index",
          5_000,
          () ->
              List.of("n1", "n2", "n3").stream()
                  .allMatch(
                      id -> {
                        Long match = apis.get(leader - 1).member(id).getLong("matchIndex");
                        return match != null && match >= committed;
                      }));
      Api follower = apis.get(leader % 3);
      String followerId = "n" + (leader % 3 + 1);
      for (String id : List.of("n1", "n2", "n3")) {
        Long match = follower.member(id).getLong("matchIndex");
        assertEquals(id.equals(followerId), match != null, id + " on " + followerId + ": " + match);
      }

      nodes.get(1).close(); // graceful: it says it leaves
      apis.get(1).close();
      Await.until(
          "n2 is left", 5_000, () -> "left".equals(apis.get(0).member("n2").getString("status")));
      assertTrue(
          events.stream().anyMatch(e -> e.nodeId().equals("n2") && e.now() == Packet.Status.LEFT),
          events::toString);

      nodes.set(1, TestNode.start(configs.get(1)));
      apis.set(1, new Api(vertx, nodes.get(1).httpPort(), 4));
      Await.until(
          "n2 is alive again with a higher incarnation",
          10_000,
          () -> {
            JsonObject m = apis.get(0).member("n2");
            return "alive".equals(m.getString("status")) && m.getLong("incarnation") > incarnation;
          });

      // A stranger's datagrams and a replayed one: dropped and counted, nothing changes.
      try (DatagramSocket stranger = new DatagramSocket()) {
        byte[] junk = new byte[2000];
        stranger.send(
            new DatagramPacket(junk, junk.length, InetAddress.getLoopbackAddress(), udp[0]));
        PacketCodec forger =
            new PacketCodec(
                new Keyring(
                    "k1",
                    java.util.Map.of(
                        "k1",
                        "not-our-key-0123456".getBytes(java.nio.charset.StandardCharsets.UTF_8))),
                "scribe-ledger",
                30_000);
        byte[] forged =
            forger
                .encode(
                    new Packet(
                        Packet.Type.LEAVE,
                        "n3",
                        "127.0.0.1:" + udp[2],
                        "",
                        "",
                        Long.MAX_VALUE,
                        Long.MAX_VALUE,
                        System.currentTimeMillis(),
                        0,
                        "",
                        "",
                        List.of()),
                    List.of())
                .bytes();
        stranger.send(
            new DatagramPacket(forged, forged.length, InetAddress.getLoopbackAddress(), udp[0]));
      }
      Await.until(
          "the stranger's datagrams are counted",
          5_000,
          () -> {
            JsonObject dropped =
                apis.get(0)
                    .get("/metrics")
                    .bodyAsJsonObject()
                    .getJsonObject("discovery")
                    .getJsonObject("dropped");
            return dropped.getLong("oversized") >= 1 && dropped.getLong("bad_mac") >= 1;
          });
      assertEquals("alive", apis.get(0).member("n3").getString("status"), "a forged leave");
      assertTrue(
          apis.get(0)
              .get("/metrics/prometheus")
              .bodyAsString()
              .contains("scribe_discovery_members"));
    } finally {
      apis.forEach(Api::close);
      nodes.forEach(TestNode::close);
    }
  }

  @Test
  void keyFilesAreChecked(@TempDir Path dir) throws Exception {
    Keyring ring = Keyring.load(keyFile(dir));
    assertEquals("k2", ring.sendId());
    for (String bad :
        new String[] {
          "",
          "# only a comment\n",
          "k1\n",
          "k1:not base64!\n",
          "k1:c2hvcnQ=\n",
          "bad id:" + Base64.getEncoder().encodeToString(new byte[16]) + "\n",
          "k1:"
              + Base64.getEncoder().encodeToString(new byte[16])
              + "\nk1:"
              + Base64.getEncoder().encodeToString(new byte[16])
              + "\n"
        }) {
      Path f = Files.writeString(dir.resolve("bad"), bad);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Keyring.load(f), bad);
      assertTrue(!e.getMessage().contains("c2hvcnQ"), "never the secret: " + e.getMessage());
    }
  }
}
