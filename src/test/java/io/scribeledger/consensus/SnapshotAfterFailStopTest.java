package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.config.ConfigResolver;
import io.scribeledger.config.NodeConfig;
import io.scribeledger.failure.FailStop;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.Condition;
import io.scribeledger.storage.DiskSpace;
import io.scribeledger.support.Await;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node stopped by a fault that leaves Ratis running, such as a Raft log it cannot write ({@code
 * notifyLogFailed}), takes no snapshot afterwards. Ratis goes on committing entries (their apply
 * refuses them); a configuration entry after them moves the index it counts as applied past them;
 * and it asks for a snapshot when an operator does and when it stops. A snapshot named after that
 * index would make the restart skip committed entries the frozen ledger never applied: this replica
 * would then lack an entry every other replica has (a fork).
 *
 * <p>A real single-member group on real files. Only the fault is injected, by tripping the node's
 * fail-stop latch as {@code notifyLogFailed} does: a real disk cannot fail the Raft log on demand
 * while Ratis is left running.
 */
class SnapshotAfterFailStopTest {

  private static final int BEFORE = 20;

  @Test
  void noSnapshotPassesWhatTheFrozenLedgerApplied(@TempDir Path dir) throws Exception {
    JsonObject json = TestNode.config("n1", dir.resolve("data"), new JsonObject());
    NodeConfig config = ConfigResolver.resolve(json);
    Path smDir = RaftNode.snapshotsDir(config.node().dataDir());
    FailStop failStop = new FailStop("n1");
    long frozenAt;
    long frozenSize;
    try (RaftNode node = startLeading(config, failStop)) {
      for (int i = 0; i < BEFORE; i++) {
        write(node, "before-" + i);
      }
      frozenAt = node.state().lastAppliedRaftIndex();
      frozenSize = node.state().size();
      failStop.fail("writing the Raft log", new IOException("injected: log write failed"));

      try (RaftClient raw = TestCluster.rawRaftClient(List.of(json))) {
        // Committed by Ratis (the log is fine here), refused by the frozen ledger. Sent past the
        // node's own client, which takes no writes after a fail-stop.
        StateMachineException refused =
            assertThrows(
                StateMachineException.class,
                () -> raw.io().send(Message.valueOf(ByteString.copyFrom(encoded("after")))));
        assertTrue(refused.getMessage().contains("not applied"), refused.getMessage());
        // A configuration entry after it (here a new priority; in a group, the failed member's own
        // removal or a new leader's first entry) moves Ratis's applied index past both.
        RaftPeer again =
            RaftPeer.newBuilder()
                .setId("n1")
                .setAddress(config.raft().host() + ":" + config.raft().port())
                .setPriority(1)
                .build();
        assertTrue(raw.admin().setConfiguration(List.of(again)).isSuccess());
        Await.until(
            "Ratis counts entries past the frozen ledger as applied",
            10_000,
            () -> node.progress().appliedIndex() > frozenAt + 1);
        var unused = raw.getSnapshotManagementApi().create(true, 5_000);
      }
    } // closing stops Ratis, which asks for a snapshot once more

    Optional<Path> latest = LedgerSnapshots.latestIn(smDir);
    assertTrue(
        latest.isEmpty() || LedgerSnapshots.indexOf(latest.get()) <= frozenAt,
        "a snapshot past Raft index " + frozenAt + ": " + latest);

    // The restart replays the committed entry the frozen ledger refused, as every replica has it.
    try (RaftNode node = startLeading(config, new FailStop("n1"))) {
      Await.until(
          "the restart applies the entry refused after the fail-stop",
          10_000,
          () -> node.state().size() == frozenSize + 1);
      assertEquals("after", node.state().entry(frozenSize + 1).orElseThrow().key());
      write(node, "next");
      assertEquals(
          "next",
          node.state().entry(frozenSize + 2).orElseThrow().key(),
          "the next write follows every committed one");
    }
  }

  private static RaftNode start(NodeConfig config, FailStop failStop) throws IOException {
    return RaftNode.start(
        config,
        failStop,
        new DiskSpace(RaftNode.writtenDirectories(config.node().dataDir()), 0),
        Optional.empty());
  }

  private static RaftNode startLeading(NodeConfig config, FailStop failStop) throws IOException {
    RaftNode node = start(config, failStop);
    try {
      Await.until("a leader", 10_000, () -> node.progress().leaderId() != null);
      return node;
    } catch (RuntimeException | Error e) {
      node.close();
      throw e;
    }
  }

  private static Command put(String key) {
    return new Command.Put(key, "text/plain", key.getBytes(StandardCharsets.UTF_8), Condition.NONE);
  }

  private static byte[] encoded(String key) {
    return CommandCodec.encode(put(key));
  }

  /** Writes {@code key} and waits for its outcome. */
  private static void write(RaftNode node, String key) throws Exception {
    var unused = node.submit(put(key), () -> false).get(10, TimeUnit.SECONDS);
  }
}
