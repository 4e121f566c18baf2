package io.scribeledger.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;

/** Node configs for a Raft group on loopback: every node lists every peer, itself included. */
public final class TestCluster {

  private TestCluster() {}

  /**
   * A plain Ratis client of the group these configs form, as anything on the Raft port could run:
   * it sends what HTTP never would.
   */
  public static RaftClient rawRaftClient(List<JsonObject> configs) {
    List<RaftPeer> peers = new ArrayList<>();
    for (JsonObject c : configs) {
      peers.add(
          RaftPeer.newBuilder()
              .setId(c.getJsonObject("node").getString("id"))
              .setAddress("127.0.0.1:" + c.getJsonObject("raft").getInteger("port"))
              .build());
    }
    return RaftClient.newBuilder()
        .setRaftGroup(RaftGroup.valueOf(io.scribeledger.consensus.RaftNode.GROUP_ID, peers))
        .setProperties(new RaftProperties())
        .build();
  }

  /** Configs for {@code size} nodes n1..nN with data under {@code dir}/nI. */
  public static List<JsonObject> configs(Path dir, int size, JsonObject overrides) {
    List<JsonObject> configs = new ArrayList<>();
    JsonArray peers = new JsonArray();
    for (int i = 1; i <= size; i++) {
      JsonObject c = TestNode.config("n" + i, dir.resolve("n" + i), overrides);
      configs.add(c);
      peers.add(
          new JsonObject()
              .put("id", "n" + i)
              .put("raftAddress", "127.0.0.1:" + c.getJsonObject("raft").getInteger("port"))
              .put("httpAddress", "127.0.0.1:" + c.getJsonObject("http").getInteger("port")));
    }
    configs.forEach(c -> c.getJsonObject("raft").put("peers", peers.copy()));
    return configs;
  }

  /**
   * The config of a node that will join the group of {@code members}: it lists them and itself, but
   * is not in their configuration until {@code /cluster/join} adds it.
   */
  public static JsonObject joiner(
      Path dir, String nodeId, List<JsonObject> members, JsonObject overrides) {
    JsonObject c = TestNode.config(nodeId, dir.resolve(nodeId), overrides);
    JsonArray peers = members.get(0).getJsonObject("raft").getJsonArray("peers").copy();
    peers.add(
        new JsonObject()
            .put("id", nodeId)
            .put("raftAddress", "127.0.0.1:" + c.getJsonObject("raft").getInteger("port"))
            .put("httpAddress", "127.0.0.1:" + c.getJsonObject("http").getInteger("port")));
    c.getJsonObject("raft").put("peers", peers);
    return c;
  }

  /**
   * Starts every node at once (a Raft group needs a majority up to elect), then waits for a leader
   * on each.
   */
  public static List<TestNode> start(List<JsonObject> configs) {
    return start(configs, new io.vertx.core.VertxOptions());
  }

  /** As above, each node on a Vert.x instance made with {@code options}. */
  public static List<TestNode> start(List<JsonObject> configs, io.vertx.core.VertxOptions options) {
    List<CompletableFuture<TestNode>> starting = new ArrayList<>();
    for (JsonObject c : configs) {
      starting.add(CompletableFuture.supplyAsync(() -> TestNode.start(c, options)));
    }
    List<TestNode> nodes = new ArrayList<>();
    RuntimeException failure = null;
    for (CompletableFuture<TestNode> f : starting) {
      try {
        nodes.add(f.join());
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    if (failure != null) {
      nodes.forEach(TestNode::close);
      throw failure;
    }
    return nodes;
  }
}
