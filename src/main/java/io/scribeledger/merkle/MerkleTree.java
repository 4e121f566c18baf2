package io.scribeledger.merkle;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An RFC 9162 Merkle tree kept incrementally: the hash of every complete subtree is stored under
 * (level, index), so an append costs O(log n) hashes and any root or proof O(log n) lookups.
 * The node map is supplied by the caller (MapDB on a node, a HashMap in tests).
 */
public final class MerkleTree {

  private final Map<Long, byte[]> nodes;

  public MerkleTree(Map<Long, byte[]> nodes) {
    this.nodes = nodes;
  }

  static long nodeId(int level, long index) {
    return ((long) level << 56) | index;
  }

  /** Adds leaf number {@code leafIndex} (0-based; must equal the current size). */
  public void append(long leafIndex, byte[] leafHash) {
    byte[] current = leafHash;
    long index = leafIndex;
    int level = 0;
    nodes.put(nodeId(level, index), current);
    while ((index & 1) == 1) {
      byte[] left = node(level, index - 1);
      current = Hashes.nodeHash(left, current);
      index >>= 1;
      level++;
      nodes.put(nodeId(level, index), current);
    }
  }

  private byte[] node(int level, long index) {
    byte[] h = nodes.get(nodeId(level, index));
    if (h == null) {
      throw new IllegalStateException("missing Merkle node level " + level + " index " + index);
    }
    return h;
  }

  /** The Merkle Tree Hash of the first {@code size} leaves. */
  public byte[] root(long size) {
    if (size == 0) {
      return Hashes.emptyRoot();
    }
    List<byte[]> peaks = new ArrayList<>();
    long start = 0;
    for (int level = 63 - Long.numberOfLeadingZeros(size); level >= 0; level--) {
      if ((size & (1L << level)) != 0) {
        peaks.add(node(level, start >> level));
        start += 1L << level;
      }
    }
    byte[] root = peaks.get(peaks.size() - 1);
    for (int i = peaks.size() - 2; i >= 0; i--) {
      root = Hashes.nodeHash(peaks.get(i), root);
    }
    return root;
  }
}
