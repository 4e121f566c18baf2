package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A damaged index without a snapshot is rebuilt from the Raft log only when the log still holds its
 * first entry; Ratis names its segments by the indices they hold.
 */
class RaftLogStartTest {

  @Test
  void onlyALogHoldingItsFirstEntryCanRebuildTheLedger(@TempDir Path group) throws Exception {
    assertFalse(RaftNode.logFromFirstEntry(group), "no log at all");
    Path current = Files.createDirectories(group.resolve("current"));
    Files.createFile(current.resolve("raft-meta"));
    Files.createFile(current.resolve("log_100-199"));
    Files.createFile(current.resolve("log_inprogress_200"));
    assertFalse(RaftNode.logFromFirstEntry(group), "purged up to 99");
    Files.createFile(current.resolve("log_0-99"));
    assertTrue(RaftNode.logFromFirstEntry(group));
    Path fresh = Files.createDirectories(group.resolve("fresh/current"));
    Files.createFile(fresh.resolve("log_inprogress_0"));
    assertTrue(RaftNode.logFromFirstEntry(group.resolve("fresh")));
  }
}
