package io.scribeledger.failure;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's fail-stop latch. A fault that could let this replica's state differ from the others' —
 * an entry that could not be applied, a checkpoint that could not be written, a Raft log that
 * cannot be appended — trips it once and for good: the node applies nothing more, leaves the Raft
 * group, reports itself failed and exits, and a restart replays the Raft log from the last good
 * checkpoint to exactly the state every other replica has. Skipping the entry instead would fork
 * the ledger (etcd panics on an apply error for the same reason).
 */
public final class FailStop {

  private static final Logger LOG = LoggerFactory.getLogger(FailStop.class);

  /** What tripped the latch: where, why, and when (epoch milliseconds). */
  public record Fault(String where, String reason, long atMillis) {}

  private final String nodeId;
  private final AtomicReference<Fault> fault = new AtomicReference<>();
  private final List<Consumer<Fault>> listeners = new CopyOnWriteArrayList<>();

  public FailStop(String nodeId) {
    this.nodeId = nodeId;
  }

  /**
   * Trips the latch: the first call logs one ERROR line and tells every listener; later calls only
   * return false (the first fault is the one that matters).
   */
  public boolean fail(String where, Throwable cause) {
    Fault f = new Fault(where, describe(cause), System.currentTimeMillis());
    synchronized (this) {
      if (!fault.compareAndSet(null, f)) {
        return false;
      }
    }
    LOG.error(
        "node {} failed stop while {}: {}; it applies nothing more and leaves the Raft group; a"
            + " restart replays the Raft log from the last checkpoint",
        nodeId,
        where,
        f.reason());
    listeners.forEach(listener -> tell(listener, f));
    return true;
  }

  /** The fault that stopped this node, if one did. */
  public Optional<Fault> fault() {
    return Optional.ofNullable(fault.get());
  }

  public boolean failed() {
    return fault.get() != null;
  }

  /** Runs {@code listener} when the latch trips (at once, if it already has). */
  public void onFail(Consumer<Fault> listener) {
    Fault f;
    synchronized (this) {
      f = fault.get();
      if (f == null) {
        listeners.add(listener);
        return;
      }
    }
    tell(listener, f);
  }

  private static void tell(Consumer<Fault> listener, Fault f) {
    try {
      listener.accept(f);
    } catch (RuntimeException e) {
      LOG.warn("a fail-stop action failed: {}", e.toString());
    }
  }

  /** The cause and, when it differs, its root: enough to act on, without a stack trace. */
  static String describe(Throwable cause) {
    if (cause == null) {
      return "unknown cause";
    }
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == cause ? cause.toString() : cause + " (cause: " + root + ")";
  }
}
