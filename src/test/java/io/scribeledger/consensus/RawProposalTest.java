package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.ledger.Batch;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.Condition;
import io.scribeledger.ledger.EntryRules;
import io.scribeledger.ledger.HeadCheck;
import io.scribeledger.ledger.WriteOutcome;
import io.scribeledger.support.Api;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever reaches the log without passing HTTP — a raw proposal on the Raft port — is held to the
 * same rules at apply: a hostile content type, a value above the cluster's limit or a bad key is
 * refused by every replica alike, and nothing is appended. Members configured with different value
 * limits still carry every entry any of them admits.
 */
@ExtendWith(VertxExtension.class)
class RawProposalTest {

  @Test
  // A regression that lets a forged head check through stops every replica; the raw client then
  // retries forever instead of failing.
  @Timeout(value = 3, unit = java.util.concurrent.TimeUnit.MINUTES)
  void hostileProposalsSentStraightToRaftAreRefusedAtApplyOnEveryNodeAlike(
      Vertx vertx, @TempDir Path dir) throws Exception {
    List<JsonObject> configs = TestCluster.configs(dir, 3, new JsonObject());
    List<TestNode> nodes = TestCluster.start(configs);
    try (Api api = new Api(vertx, nodes.get(0).httpPort());
        RaftClient raw = TestCluster.rawRaftClient(configs)) {
      assertEquals(201, api.put("/kv/before", "a real write").statusCode());
      JsonObject headBefore = api.get("/ledger/head").bodyAsJsonObject();
      long before = headBefore.getLong("treeSize");
      List<Command> hostile =
          List.of(
              put(
                  "ok-key",
                  "text/plain\r\nSet-Cookie: stolen=1",
                  "v".getBytes(StandardCharsets.UTF_8)),
              put("ok-key", "x".repeat(EntryRules.MAX_CONTENT_TYPE_BYTES + 1), new byte[1]),
              put("ok-key", "text/plain", new byte[(int) EntryRules.MAX_VALUE_BYTES + 1]),
              put("bad\u0000key", "text/plain", new byte[1]),
              put("", "text/plain", new byte[1]));
      for (Command command : hostile) {
        WriteOutcome outcome = send(raw, new Batch(List.of(command)));
        assertTrue(outcome instanceof WriteOutcome.Batched, String.valueOf(outcome));
        WriteOutcome only = ((WriteOutcome.Batched) outcome).outcomes().get(0);
        assertTrue(only instanceof WriteOutcome.Rejected, command + " was " + only);
      }
      // Bytes that are no command at all: an unknown kind, and a truncated batch.
      byte[] valid = CommandCodec.encode(new Batch(List.of(put("k", "text/plain", new byte[1]))));
      byte[] unknownKind = valid.clone();
      unknownKind[0] = (byte) 0x7f;
      byte[] truncated = java.util.Arrays.copyOf(valid, valid.length / 2);
      for (byte[] junk : List.of(unknownKind, truncated)) {
        RaftClientReply reply = raw.io().send(Message.valueOf(ByteString.copyFrom(junk)));
        assertTrue(reply.isSuccess(), "recorded as rejected, not a stopped group");
        assertTrue(
            OutcomeCodec.decode(reply.getMessage().getContent().asReadOnlyByteBuffer())
                instanceof WriteOutcome.Rejected);
      }
      // A head check naming a tree nobody has (which would stop every replica at apply, and again
      // at every restart): the leader writes its own head into it, so the group confirms it.
      byte[] noSuchRoot = new byte[32];
      java.util.Arrays.fill(noSuchRoot, (byte) 0x5a);
      for (HeadCheck forged :
          List.of(new HeadCheck(1L << 40, noSuchRoot), new HeadCheck(before, noSuchRoot))) {
        WriteOutcome confirmed = send(raw, forged);
        assertTrue(confirmed instanceof WriteOutcome.HeadConfirmed, String.valueOf(confirmed));
      }
      assertEquals(201, api.put("/kv/after", "the log still moves").statusCode());
      JsonObject headAfter = api.get("/ledger/head").bodyAsJsonObject();
      long after = headAfter.getLong("treeSize");
      assertEquals(before + 1, after, "only the real write was appended");
      String head = headAfter.getString("rootHash");
      assertTrue(!head.equals(headBefore.getString("rootHash")));
      for (TestNode node : nodes) {
        try (Api each = new Api(vertx, node.httpPort())) {
          each.awaitApplied(after, 30_000);
          assertEquals(
              head,
              each.get("/ledger/head").bodyAsJsonObject().getString("rootHash"),
              "every replica refused the same entries");
          assertEquals("ok", each.get("/health").bodyAsJsonObject().getString("status"));
          assertEquals(404, each.get("/kv/ok-key?consistency=stale").statusCode());
        }
      }
    } finally {
      nodes.forEach(TestNode::close);
    }
  }

  @Test
  void membersWithDifferentValueLimitsCarryEveryEntryAnyOfThemAdmits(
      Vertx vertx, @TempDir Path dir) {
    List<JsonObject> configs = TestCluster.configs(dir, 3, new JsonObject());
    configs.get(0).put("limits", new JsonObject().put("maxValueBytes", EntryRules.MAX_VALUE_BYTES));
    configs.get(1).put("limits", new JsonObject().put("maxValueBytes", 64 * 1024));
    configs.get(2).put("limits", new JsonObject().put("maxValueBytes", 64 * 1024));
    List<TestNode> nodes = TestCluster.start(configs);
    try (Api big = new Api(vertx, nodes.get(0).httpPort());
        Api small = new Api(vertx, nodes.get(1).httpPort())) {
      byte[] value = new byte[8 * 1024 * 1024];
      assertEquals(201, big.put("/kv/large", value, "application/octet-stream").statusCode());
      assertEquals(413, small.put("/kv/refused", value, "application/octet-stream").statusCode());
      assertEquals(201, small.put("/kv/after", "the log still moves").statusCode());
      for (TestNode node : nodes) {
        try (Api api = new Api(vertx, node.httpPort())) {
          assertEquals(value.length, api.get("/kv/large").body().length());
        }
      }
    } finally {
      nodes.forEach(TestNode::close);
    }
  }

  @Test
  void aLeaderBelowItsDiskFloorRefusesProposalsThatBypassedAdmission(Vertx vertx, @TempDir Path dir)
      throws Exception {
    // A floor no disk here reaches: this node's HTTP admission refuses, and so must its Raft
    // leader for a proposal that came another way (a follower's client, or straight to Raft).
    JsonObject config =
        TestNode.config(
            "n1",
            dir,
            new JsonObject().put("storage", new JsonObject().put("minFreeBytes", 1L << 50)));
    String raftAddress = "127.0.0.1:" + config.getJsonObject("raft").getInteger("port");
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort());
        RaftClient raw =
            RaftClient.newBuilder()
                .setRaftGroup(
                    RaftGroup.valueOf(
                        RaftNode.GROUP_ID,
                        RaftPeer.newBuilder().setId("n1").setAddress(raftAddress).build()))
                .setProperties(new RaftProperties())
                .setRetryPolicy(org.apache.ratis.retry.RetryPolicies.noRetry())
                .build()) {
      assertEquals(507, api.put("/kv/k", "v").statusCode(), "admission refuses first");
      long before = api.ledgerSize();
      Message proposal =
          Message.valueOf(
              ByteString.copyFrom(
                  CommandCodec.encode(new Batch(List.of(put("k", "text/plain", new byte[1]))))));
      org.apache.ratis.protocol.exceptions.StateMachineException refused =
          org.junit.jupiter.api.Assertions.assertThrows(
              org.apache.ratis.protocol.exceptions.StateMachineException.class,
              () -> raw.io().send(proposal),
              "refused before the log");
      assertTrue(
          refused.getMessage().contains(LedgerStateMachine.INSUFFICIENT_STORAGE),
          refused.getMessage());
      assertEquals(before, api.ledgerSize(), "nothing appended");
      assertEquals(404, api.get("/kv/k").statusCode());
    }
  }

  @Test
  void aLeaderLowOnDiskHandsLeadershipToAMemberWithSpace(Vertx vertx, @TempDir Path dir) {
    List<JsonObject> configs = TestCluster.configs(dir, 3, new JsonObject());
    // n1's floor is above any disk here: while it leads, it refuses every proposal. Its short
    // election timeout makes it the first leader, so the handover is what the test sees.
    configs.get(0).put("storage", new JsonObject().put("minFreeBytes", 1L << 50));
    configs
        .get(0)
        .getJsonObject("raft")
        .put("electionTimeoutMinMs", 40)
        .put("electionTimeoutMaxMs", 60)
        .put("heartbeatIntervalMs", 20);
    for (JsonObject c : configs.subList(1, 3)) {
      c.getJsonObject("raft").put("electionTimeoutMinMs", 600).put("electionTimeoutMaxMs", 900);
    }
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
        new ch.qos.logback.core.read.ListAppender<>();
    ch.qos.logback.classic.Logger raftLog =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(GroupMembership.class);
    raftLog.addAppender(log);
    log.start();
    List<TestNode> nodes = TestCluster.start(configs);
    try (Api n2 = new Api(vertx, nodes.get(1).httpPort())) {
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
      int status = 0;
      while (status != 201 && System.nanoTime() < deadline) {
        status = n2.put("/kv/written", "by a leader with space").statusCode();
      }
      assertEquals(201, status, "writes go on through a leader with space");
      assertTrue(n2.leaderNumber() != 1, "the low node does not keep leading");
      assertTrue(
          log.list.stream()
              .anyMatch(
                  e ->
                      e.getFormattedMessage().startsWith("leadership handed to")
                          && e.getFormattedMessage().contains("free space below the floor")),
          "n1 led first and handed leadership over");
    } finally {
      raftLog.detachAppender(log);
      nodes.forEach(TestNode::close);
    }
  }

  private static Command put(String key, String contentType, byte[] value) {
    return new Command.Put(key, contentType, value, Condition.NONE);
  }

  private static WriteOutcome send(RaftClient client, io.scribeledger.ledger.Proposal proposal)
      throws Exception {
    RaftClientReply reply =
        client.io().send(Message.valueOf(ByteString.copyFrom(CommandCodec.encode(proposal))));
    assertTrue(reply.isSuccess(), String.valueOf(reply.getException()));
    return OutcomeCodec.decode(reply.getMessage().getContent().asReadOnlyByteBuffer());
  }
}
