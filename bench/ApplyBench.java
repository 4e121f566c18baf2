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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cost of applying writes to the state machine's stores (MapDB key lookups, segment file, entry
 * index, Merkle node file) as a node does for every committed write: unique keys, 128-byte values,
 * in Raft entries of {@code batch} writes, with checkpoints (file syncs, MapDB writes and commit)
 * on a second thread every 1000 entries or {@code intervalMs}, as the node's committer does. Prints
 * the apply thread's cost per write and what the checkpoints cost.
 *
 * <p>Run after {@code mvn -B package -DskipTests}: {@code java -cp target/scribe-ledger.jar
 * bench/ApplyBench.java 300000 64 1000}
 */
public class ApplyBench {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 300_000;
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    long intervalMs = args.length > 2 ? Long.parseLong(args[2]) : 1000;
    Path dir = Files.createTempDirectory("applybench");
    byte[] value = new byte[128];
    ExecutorService committer = Executors.newSingleThreadExecutor();
    AtomicBoolean queued = new AtomicBoolean();
    AtomicLong checkpoints = new AtomicLong();
    AtomicLong checkpointNanos = new AtomicLong();
    AtomicLong maxCheckpointNanos = new AtomicLong();
    try (LedgerState state = new LedgerState(dir, 64L << 20)) {
      long raftIndex = 0;
      long start = System.nanoTime();
      long last = start;
      int written = 0;
      while (written < n) {
        List<Command> commands = new ArrayList<>(batch);
        for (int i = 0; i < batch; i++, written++) {
          commands.add(
              new Command.Put(
                  "bench-" + written, "application/octet-stream", value, Condition.NONE));
        }
        state.apply(
            1, ++raftIndex, new StampedCommand(System.currentTimeMillis(), new Batch(commands)));
        if ((raftIndex % 1000 == 0 || System.nanoTime() - last > intervalMs * 1_000_000L)
            && queued.compareAndSet(false, true)) {
          last = System.nanoTime();
          committer.execute(
              () -> {
                queued.set(false);
                long t = System.nanoTime();
                state.checkpoint();
                long took = System.nanoTime() - t;
                checkpoints.incrementAndGet();
                checkpointNanos.addAndGet(took);
                maxCheckpointNanos.accumulateAndGet(took, Math::max);
              });
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      committer.shutdown();
      committer.awaitTermination(1, TimeUnit.MINUTES);
      long t = System.nanoTime();
      state.commit();
      System.out.printf(
          "applied %,d writes in entries of %d: %.1f us per write on the apply thread, %,.0f writes/s%n",
          n, batch, seconds * 1e6 / n, n / seconds);
      System.out.printf(
          "checkpoints on the committer thread: %d, %.1f ms on average, %.1f ms at most; final commit %.1f ms%n",
          checkpoints.get(),
          checkpointNanos.get() / 1e6 / Math.max(1, checkpoints.get()),
          maxCheckpointNanos.get() / 1e6,
          (System.nanoTime() - t) / 1e6);
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
