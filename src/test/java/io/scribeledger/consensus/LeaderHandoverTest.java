package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.scribeledger.support.Api;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A member that has another member's leadership moved ({@code POST /cluster/leave} naming the
 * leader, sent elsewhere) first tells that leader, which then stops counting its followers' earlier
 * answers: the new leader's election skips pre-vote, so followers may vote for it while those
 * answers still look fresh, and the old leader could otherwise serve a read from its old term until
 * their newer term reached it.
 */
@ExtendWith(VertxExtension.class)
class LeaderHandoverTest {

  /** Wider than the tests' usual 150 ms, so that the waits it sets are well above any latency. */
  private static final long ELECTION_TIMEOUT_MIN_MS = 600;

  /** How long the transfer a notice announces may take (raft.requestTimeoutMs). */
  private static final long TRANSFER_TIMEOUT_MS = 2000;

  private static final JsonObject TIMING =
      new JsonObject()
          .put(
              "raft",
              new JsonObject()
                  .put("electionTimeoutMinMs", ELECTION_TIMEOUT_MIN_MS)
                  .put("electionTimeoutMaxMs", 2 * ELECTION_TIMEOUT_MIN_MS)
                  .put("requestTimeoutMs", TRANSFER_TIMEOUT_MS));

  @Test
  void aLeaderToldOfAHandoverServesNoReadUntilTheTransferCouldHaveEndedAndItCommittedSince(
      Vertx vertx, @TempDir Path dir) throws Exception {
    List<JsonObject> configs = TestCluster.configs(dir, 3, TIMING);
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
        assertEquals("v1", onLeader.get("/kv/k").bodyAsString(), "still served");

        long commitBefore = commitIndex(onLeader);
        RaftClientReply told = raw.io().sendReadOnly(LeaderRead.HANDOVER, peerId(leader));
        long toldAt = System.nanoTime();
        assertInstanceOf(LeaderRead.HandingOver.class, decode(told));
        HttpResponse<Buffer> refused = onLeader.get("/kv/k");
        assertEquals(503, refused.statusCode(), refused.bodyAsString());
        // No transfer follows here, so the leader keeps leading: it serves linearizable reads again
        // only once a transfer could no longer move its leadership (its timeout plus an election
        // timeout for the request on its way, then answers a whole election timeout after that)
        // and once it committed an entry appended since the notice. A bound set by the rule, not a
        // speed.
        HttpResponse<Buffer> read = refused;
        long deadline = toldAt + TimeUnit.SECONDS.toNanos(30);
        while (read.statusCode() != 200 && System.nanoTime() < deadline) {
          read = onLeader.get("/kv/k");
        }
        long servedMs = (System.nanoTime() - toldAt) / 1_000_000;
        assertEquals(200, read.statusCode(), read.bodyAsString());
        assertEquals("v1", read.bodyAsString());
        assertTrue(
            servedMs >= TRANSFER_TIMEOUT_MS + 2 * ELECTION_TIMEOUT_MIN_MS - 100,
            "served again " + servedMs + " ms after the notice");
        assertTrue(commitIndex(onLeader) > commitBefore, "an entry committed since the notice");
        assertEquals(
            leader, onLeader.get("/cluster/leader").bodyAsJsonObject().getString("leaderId"));
      }
    } finally {
      nodes.forEach(TestNode::close);
    }
  }

  @Test
  void aLeaveNamingTheLeaderSentToAnotherMemberTellsTheLeaderFirst(Vertx vertx, @TempDir Path dir)
      throws Exception {
    List<JsonObject> configs = TestCluster.configs(dir, 3, TIMING);
    List<TestNode> nodes = TestCluster.start(configs);
    Logger logger = (Logger) LoggerFactory.getLogger(LinearizableReads.class);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    logger.addAppender(events);
    try (Api first = new Api(vertx, nodes.get(0).httpPort())) {
      assertEquals(201, first.put("/kv/k", "v1").statusCode());
      String leader = first.get("/cluster/leader").bodyAsJsonObject().getString("leaderId");
      int leaderAt = Integer.parseInt(leader.substring(1)) - 1;
      try (Api other = new Api(vertx, nodes.get((leaderAt + 1) % 3).httpPort())) {
        HttpResponse<Buffer> left =
            other.send(
                HttpMethod.POST,
                "/cluster/leave",
                new JsonObject().put("nodeId", leader).toBuffer(),
                null);
        assertEquals(200, left.statusCode(), left.bodyAsString());
        assertTrue(
            events.list.stream()
                .anyMatch(
                    e ->
                        e.getFormattedMessage()
                            .startsWith(
                                "leader " + leader + ": another member is moving its leadership")),
            events.list::toString);
        HttpResponse<Buffer> read = other.get("/kv/k");
        assertEquals("v1", read.bodyAsString(), "the group goes on without it");
      }
    } finally {
      logger.detachAppender(events);
      nodes.forEach(TestNode::close);
    }
  }

  private static long commitIndex(Api api) {
    return api.get("/cluster/status").bodyAsJsonObject().getLong("commitIndex");
  }

  private static RaftPeerId peerId(String id) {
    return RaftPeerId.valueOf(id);
  }

  private static LeaderRead decode(RaftClientReply reply) {
    assertTrue(reply.isSuccess(), String.valueOf(reply.getException()));
    return LeaderRead.decode(reply.getMessage().getContent());
  }
}
