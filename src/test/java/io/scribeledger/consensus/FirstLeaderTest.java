package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.config.ConfigResolver;
import io.scribeledger.config.NodeConfig;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.LedgerException;
import io.scribeledger.failure.FailStop;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.Condition;
import io.scribeledger.ledger.WriteOutcome;
import io.scribeledger.storage.DiskSpace;
import io.scribeledger.support.TestNode;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes sent the moment a node knows its first leader commit and are answered with their outcome.
 * When a node first learns a leader it points a new client at it; the writes already sent through
 * the client it started with (which aimed at no leader) are not aimed at a replaced leader, so
 * nothing may answer them "outcome unknown". A real single-member group on real files, started
 * several times, written to from the first moment it takes writes.
 */
class FirstLeaderTest {

  private static final int ROUNDS = 4;
  private static final int WRITES = 40;

  @Test
  void writesSentAsTheFirstLeaderIsLearnedAreAnsweredWithTheirOutcome(@TempDir Path dir)
      throws Exception {
    JsonObject json = TestNode.config("n1", dir.resolve("data"), new JsonObject());
    NodeConfig config = ConfigResolver.resolve(json);
    long expected = 0;
    for (int round = 0; round < ROUNDS; round++) {
      try (RaftNode node =
          RaftNode.start(
              config,
              new FailStop("n1"),
              new DiskSpace(RaftNode.writtenDirectories(config.node().dataDir()), 0),
              Optional.empty())) {
        List<CompletableFuture<WriteOutcome>> sent = sendFromFirstChance(node, round);
        List<String> unknown = new ArrayList<>();
        for (CompletableFuture<WriteOutcome> write : sent) {
          try {
            var unused = write.get(15, TimeUnit.SECONDS);
          } catch (ExecutionException e) {
            if (e.getCause() instanceof LedgerException le
                && le.error().code() == ErrorCode.TIMEOUT) {
              unknown.add(le.getMessage());
            } else {
              throw e;
            }
          }
        }
        assertTrue(
            unknown.isEmpty(), "round " + round + ": answered 'outcome unknown': " + unknown);
        expected += WRITES;
        assertEquals(expected, node.state().size(), "every write of every round is in the ledger");
      }
    }
  }

  /**
   * Sends {@link #WRITES} writes, each as soon as the node takes writes: a write refused with "no
   * leader" is sent again, at once.
   */
  private static List<CompletableFuture<WriteOutcome>> sendFromFirstChance(RaftNode node, int round)
      throws InterruptedException {
    List<CompletableFuture<WriteOutcome>> sent = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (sent.size() < WRITES) {
      Command put = put("r" + round + "-" + sent.size());
      CompletableFuture<WriteOutcome> write = node.submit(put, () -> false);
      if (refusedForNoLeader(write)) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("no leader within 15 s");
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // a poll for the first leader
        continue;
      }
      sent.add(write);
    }
    return sent;
  }

  private static boolean refusedForNoLeader(CompletableFuture<WriteOutcome> write)
      throws InterruptedException {
    if (!write.isCompletedExceptionally()) {
      return false;
    }
    try {
      write.get();
      return false;
    } catch (ExecutionException e) {
      return e.getCause() instanceof LedgerException le && le.error().code() == ErrorCode.NO_LEADER;
    }
  }

  private static Command put(String key) {
    return new Command.Put(key, "text/plain", key.getBytes(StandardCharsets.UTF_8), Condition.NONE);
  }
}
