import io.scribeledger.ledger.Batch;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.Condition;
import io.scribeledger.ledger.LedgerState;
import io.scribeledger.ledger.StampedCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * What a snapshot costs the apply thread, and what restoring one costs a node, at a given ledger
 * size: builds a ledger of {@code writes} unique keys (128-byte values, entries of 64 writes, as
 * ApplyBench), takes a snapshot as the state machine does, copies it (what Ratis ships to a
 * follower), and restores it into an empty data directory (relinking, checking every Merkle node,
 * rebuilding the key lookups from the entries).
 *
 * <p>Run after {@code mvn -B package -DskipTests}: {@code java -cp target/scribe-ledger.jar
 * bench/SnapshotBench.java 1000000}
 */
public class SnapshotBench {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int batch = 64;
    Path dir = Files.createTempDirectory("snapshotbench");
    byte[] value = new byte[128];
    try {
      Path snapshot = Files.createDirectories(dir.resolve("snapshot"));
      Path shipped = dir.resolve("shipped");
      try (LedgerState state = new LedgerState(dir.resolve("leader"), 64L << 20)) {
        long raftIndex = 0;
        for (int written = 0; written < n; ) {
          List<Command> commands = new ArrayList<>(batch);
          for (int i = 0; i < batch && written < n; i++, written++) {
            commands.add(
                new Command.Put(
                    "bench-" + written, "application/octet-stream", value, Condition.NONE));
          }
          state.apply(
              1, ++raftIndex, new StampedCommand(System.currentTimeMillis(), new Batch(commands)));
          if (raftIndex % 1000 == 0) {
            state.checkpoint();
          }
        }
        state.checkpoint();
        long t = System.nanoTime();
        state.writeSnapshot(snapshot);
        System.out.printf(
            "snapshot of %,d entries: %.1f ms on the apply thread (a commit and hard links), %,d bytes shared%n",
            n, (System.nanoTime() - t) / 1e6, size(snapshot));
      }
      copy(snapshot, shipped);
      long t = System.nanoTime();
      try (LedgerState restored =
          new LedgerState(dir.resolve("follower"), 64L << 20, Optional.of(shipped))) {
        double ms = (System.nanoTime() - t) / 1e6;
        System.out.printf(
            "restore of %,d entries: %.0f ms, %.1f us per entry (nodes checked, key lookups rebuilt)%n",
            restored.size(), ms, ms * 1000 / restored.size());
      }
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static long size(Path dir) throws Exception {
    try (var files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private static void copy(Path from, Path to) throws Exception {
    try (var walk = Files.walk(from)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
