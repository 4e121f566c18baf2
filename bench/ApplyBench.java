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

/**
 * Cost of applying writes to the state machine's stores (MapDB indexes, segment file, Merkle tree)
 * on one thread, as a follower or the leader does for every committed write: unique keys, 128-byte
 * values, in Raft entries of {@code batch} writes, committed once a second's worth as the node does.
 *
 * <p>Run after {@code mvn -B package -DskipTests}:
 * {@code java -cp target/scribe-ledger.jar bench/ApplyBench.java 300000 64}
 */
public class ApplyBench {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 300_000;
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    Path dir = Files.createTempDirectory("applybench");
    byte[] value = new byte[128];
    try (LedgerState state = new LedgerState(dir, 64L << 20)) {
      long raftIndex = 0;
      long start = System.nanoTime();
      long windowStart = start;
      int written = 0;
      while (written < n) {
        List<Command> commands = new ArrayList<>(batch);
        for (int i = 0; i < batch; i++, written++) {
          commands.add(new Command.Put("bench-" + written, "application/octet-stream", value, Condition.NONE));
        }
        state.apply(1, ++raftIndex, new StampedCommand(System.currentTimeMillis(), new Batch(commands)));
        if (raftIndex % 1000 == 0 || System.nanoTime() - windowStart > 1_000_000_000L) {
          state.commit();
          windowStart = System.nanoTime();
        }
        if (written % 100_000 < batch) {
          System.out.printf("%,d writes: %.1f us per write so far%n", written, (System.nanoTime() - start) / 1e3 / written);
        }
      }
      state.commit();
      System.out.printf("applied %,d writes in entries of %d: %.1f us per write, %,.0f writes/s on one thread%n", n, batch,
          (System.nanoTime() - start) / 1e3 / n, n / ((System.nanoTime() - start) / 1e9));
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
