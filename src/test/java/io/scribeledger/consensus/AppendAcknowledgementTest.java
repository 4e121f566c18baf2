package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.config.ConfigResolver;
import io.scribeledger.config.NodeConfig;
import io.scribeledger.support.TestCluster;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto.AppendResult;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftGroupIdProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.proto.RaftProtos.TermIndexProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member acknowledges only entries it has stored. The leader counts an acknowledgement toward the
 * majority that commits an entry, and sends the member nothing below what it acknowledged: an entry
 * acknowledged but not stored can lose a committed write, and left a restarted member stuck behind
 * forever (Ratis 3.3's composed append did both; {@code RaftSettings.properties} turns it off).
 *
 * <p>A real Ratis member with the node's Raft settings receives what a leader sends when it resends
 * from where an append still being written starts (it does so whenever a heartbeat finds the member
 * behind), before the first request is stored. The leader is simulated because a real one cannot be
 * made to resend on demand.
 */
class AppendAcknowledgementTest {

  private static final long TERM = 7;
  private static final int BATCH = 50;
  private static final int ROUNDS = 20;
  private static final ClientId CLIENT = ClientId.randomId();

  @Test
  void aLongerResendIsStoredBeforeItIsAcknowledged(@TempDir Path dir) throws Exception {
    assertEveryAcknowledgementStored(dir, BATCH, BATCH + 1);
  }

  /**
   * The same gap with a resend of exactly the entries still being written: Ratis 3.3 acknowledges
   * it at once, before they are on disk, with compose on or off (seen: acknowledged up to 49,
   * stored up to -1). Nothing in the node's settings closes it; the window is the first request's
   * fsync, and an entry is lost through it only if this member crashes within that window and the
   * leader's copy is lost too before another member stores it (ARCHITECTURE.md, "Consensus").
   */
  @Test
  @Disabled("Ratis 3.3 acknowledges a resend of entries still being written before they are stored")
  void aRepeatedResendIsStoredBeforeItIsAcknowledged(@TempDir Path dir) throws Exception {
    assertEveryAcknowledgementStored(dir, BATCH, BATCH);
  }

  /**
   * Sends a real member, in rounds, a request of {@code first} entries and at once, before it is
   * stored, a resend of {@code resent} entries from the same index, as the leader's appender does;
   * each reply must come once the member has stored what it acknowledges.
   */
  private static void assertEveryAcknowledgementStored(Path dir, int first, int resent)
      throws Exception {
    List<JsonObject> configs = TestCluster.configs(dir, 2, new JsonObject());
    NodeConfig member = ConfigResolver.resolve(configs.get(0));
    NodeConfig leader = ConfigResolver.resolve(configs.get(1));
    RaftPeerId memberId = RaftPeerId.valueOf(member.node().id());
    RaftPeerId leaderId = RaftPeerId.valueOf(leader.node().id());
    RaftGroup group =
        RaftGroup.valueOf(
            RaftGroupId.randomId(),
            RaftPeer.newBuilder()
                .setId(memberId)
                .setAddress(member.raft().host() + ":" + member.raft().port())
                .build(),
            // Never started: its requests are the test's.
            RaftPeer.newBuilder()
                .setId(leaderId)
                .setAddress(leader.raft().host() + ":" + leader.raft().port())
                .build());
    try (RaftServer server =
        RaftServer.newBuilder()
            .setServerId(memberId)
            .setGroup(group)
            .setProperties(RaftSettings.properties(member, dir.resolve("raft")))
            .setStateMachine(new BaseStateMachine())
            .setOption(RaftStorage.StartupOption.FORMAT)
            .build()) {
      server.start();
      var log = server.getDivision(group.getGroupId()).getRaftLog();
      long next = 0;
      long callId = 0;
      for (int round = 0; round < ROUNDS; round++) {
        List<CompletableFuture<Ack>> acks = new ArrayList<>();
        for (int count : new int[] {first, resent}) {
          acks.add(
              server
                  .appendEntriesAsync(request(group, leaderId, memberId, ++callId, next, count))
                  .thenApply(reply -> new Ack(reply, log.getFlushIndex())));
        }
        for (CompletableFuture<Ack> f : acks) {
          Ack ack = f.get(30, TimeUnit.SECONDS);
          assertEquals(AppendResult.SUCCESS, ack.reply().getResult(), "round " + round);
          assertTrue(
              ack.storedUpTo() >= ack.reply().getMatchIndex(),
              "round "
                  + round
                  + ": acknowledged up to "
                  + ack.reply().getMatchIndex()
                  + " but stored only up to "
                  + ack.storedUpTo());
        }
        next += Math.max(first, resent);
      }
      assertEquals(next - 1, log.getLastEntryTermIndex().getIndex(), "every entry stored once");
    }
  }

  /** A member's reply, and how far its log was on disk when the reply was made. */
  private record Ack(AppendEntriesReplyProto reply, long storedUpTo) {}

  /** An appendEntries from {@code leader} with {@code count} entries from index {@code first}. */
  private static AppendEntriesRequestProto request(
      RaftGroup group, RaftPeerId leader, RaftPeerId member, long callId, long first, int count) {
    List<LogEntryProto> entries = new ArrayList<>();
    for (long i = first; i < first + count; i++) {
      entries.add(
          LogEntryProto.newBuilder()
              .setTerm(TERM)
              .setIndex(i)
              .setStateMachineLogEntry(
                  StateMachineLogEntryProto.newBuilder()
                      .setClientId(CLIENT.toByteString())
                      .setCallId(i)
                      .setLogData(ByteString.copyFromUtf8("entry " + i)))
              .build());
    }
    AppendEntriesRequestProto.Builder b =
        AppendEntriesRequestProto.newBuilder()
            .setServerRequest(
                RaftRpcRequestProto.newBuilder()
                    .setRequestorId(leader.toByteString())
                    .setReplyId(member.toByteString())
                    .setRaftGroupId(
                        RaftGroupIdProto.newBuilder().setId(group.getGroupId().toByteString()))
                    .setCallId(callId))
            .setLeaderTerm(TERM)
            // Nothing committed: with 0, entry 0 counted as committed once it was stored, and a
            // resend starting at it that came after that was refused as already there
            // (INCONSISTENCY) instead of being taken, which the test does not ask about.
            .setLeaderCommit(RaftLog.INVALID_LOG_INDEX)
            .addAllEntries(entries);
    if (first > 0) {
      b.setPreviousLog(TermIndexProto.newBuilder().setTerm(TERM).setIndex(first - 1));
    }
    return b.build();
  }
}
