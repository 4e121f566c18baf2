package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.List;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member that has another member's leadership moved ({@code POST /cluster/leave} naming the
 * leader, sent elsewhere) first tells that leader, which then stops counting its followers' earlier
 * answers: the new leader's election skips pre-vote, so followers may vote for it while those
 * answers still look fresh, and the old leader could otherwise serve a read from its old term until
 * their newer term reached it.
 */
@ExtendWith(VertxExtension.class)
class LeaderHandoverTest {

  /**
   * Wider than the tests' usual 150 ms, so that the wait it sets is well above any latency here.
   */
  private static final long ELECTION_TIMEOUT_MIN_MS = 600;

  @Test
  void aLeaderToldOfAHandoverServesReadsOnlyFromAnswersReceivedAfterIt(
      Vertx vertx, @TempDir Path dir) throws Exception {
    List<JsonObject> configs =
        TestCluster.configs(
            dir,
            3,
            new JsonObject()
                .put(
                    "raft",
                    new JsonObject()
                        .put("electionTimeoutMinMs", ELECTION_TIMEOUT_MIN_MS)
                        .put("electionTimeoutMaxMs", 2 * ELECTION_TIMEOUT_MIN_MS)));
    List<TestNode> nodes = TestCluster.start(configs);
    try (Api first = new Api(vertx, nodes.get(0).httpPort());
        RaftClient raw = TestCluster.rawRaftClient(configs)) {
      assertEquals(201, first.put("/kv/k", "v1").statusCode());
      String leader = first.get("/cluster/leader").bodyAsJsonObject().getString("leaderId");
      int leaderAt = Integer.parseInt(leader.substring(1)) - 1;
      String follower = configs.get((leaderAt + 1) % 3).getJsonObject("node").getString("id");
      try (Api onLeader = new Api(vertx, nodes.get(leaderAt).httpPort())) {
        assertEquals("v1", onLeader.get("/kv/k").bodyAsString(), "served before the notice");

        // A member that does not lead says so and changes nothing.
        RaftClientReply notLeading = raw.io().sendReadOnly(LeaderRead.HANDOVER, peerId(follower));
        assertInstanceOf(LeaderRead.NotLeading.class, decode(notLeading));

        RaftClientReply told = raw.io().sendReadOnly(LeaderRead.HANDOVER, peerId(leader));
        long toldAt = System.nanoTime();
        assertInstanceOf(LeaderRead.Refused.class, decode(told));
        HttpResponse<Buffer> read = onLeader.get("/kv/k");
        long readMs = (System.nanoTime() - toldAt) / 1_000_000;
        assertEquals(200, read.statusCode(), read.bodyAsString());
        assertEquals("v1", read.bodyAsString());
        // The leader counts only answers received a whole election timeout after the notice (its
        // followers answer every half of it), so no read completes sooner: a bound set by the
        // rule, not a speed. Without the notice it answered in a few milliseconds.
        assertTrue(
            readMs >= ELECTION_TIMEOUT_MIN_MS - 100,
            "linearizable read on the leader answered " + readMs + " ms after the notice");
      }
    } finally {
      nodes.forEach(TestNode::close);
    }
  }

  private static RaftPeerId peerId(String id) {
    return RaftPeerId.valueOf(id);
  }

  private static LeaderRead decode(RaftClientReply reply) {
    assertTrue(reply.isSuccess(), String.valueOf(reply.getException()));
    return LeaderRead.decode(reply.getMessage().getContent());
  }
}
