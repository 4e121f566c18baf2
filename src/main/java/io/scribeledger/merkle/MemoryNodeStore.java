package io.scribeledger.merkle;

import java.util.HashMap;
import java.util.Map;

/** A node store in memory: for recomputing a segment's tree during a scrub, and for tests. */
public final class MemoryNodeStore implements NodeStore {

  private final Map<Long, byte[]> nodes = new HashMap<>();

  @Override
  public void put(int level, long index, byte[] hash) {
    nodes.put(NodeStore.postOrderPosition(level, index), hash);
  }

  @Override
  public byte[] get(int level, long index) {
    return nodes.get(NodeStore.postOrderPosition(level, index));
  }

  /** Number of stored nodes. */
  public int size() {
    return nodes.size();
  }

  /** An independent copy, as a second appender reopening the same nodes would see them. */
  public MemoryNodeStore copy() {
    MemoryNodeStore copy = new MemoryNodeStore();
    copy.nodes.putAll(nodes);
    return copy;
  }
}
