package io.scribeledger.consensus;

/** What this node did with snapshots: taken here, and installed from a leader. */
public record SnapshotStats(
    long taken, long lastIndex, long lastSizeBytes, long lastDurationMs, long installed) {

  static final SnapshotStats NONE = new SnapshotStats(0, 0, 0, 0, 0);

  SnapshotStats withTaken(long index, long sizeBytes, long durationMs) {
    return new SnapshotStats(taken + 1, index, sizeBytes, durationMs, installed);
  }

  SnapshotStats withInstalled(long index, long sizeBytes) {
    return new SnapshotStats(taken, index, sizeBytes, lastDurationMs, installed + 1);
  }
}
