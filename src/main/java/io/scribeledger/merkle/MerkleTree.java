package io.scribeledger.merkle;

import java.util.ArrayList;
import java.util.List;

/**
 * An RFC 9162 Merkle tree kept incrementally: the hash of every complete subtree is stored under
 * (level, index), so an append costs O(log n) hashes and any root or proof O(log n) lookups. The
 * node store is supplied by the caller (an append-only file on a node, memory in tests).
 */
public final class MerkleTree {

  private final NodeStore nodes;

  /**
   * The appender's view: peaks of the complete subtrees of the first {@code size} leaves, by level.
   */
  private final byte[][] peaks = new byte[64][];

  private long size = -1;

  public MerkleTree(NodeStore nodes) {
    this.nodes = nodes;
  }

  /**
   * Adds leaf number {@code leafIndex} (0-based; must equal the current size) and returns the new
   * root. The appender keeps the current peaks in memory, so an append reads nothing back. Not
   * thread-safe: one appender at a time (the apply thread); readers use {@link #root(long)}.
   */
  public byte[] append(long leafIndex, byte[] leafHash) {
    if (size != leafIndex) {
      loadPeaks(leafIndex);
    }
    fold(peaks, leafIndex, leafHash, nodes::put);
    size = leafIndex + 1;
    byte[] root = null;
    for (byte[] peak : peaks) {
      if (peak != null) {
        root = root == null ? peak : Hashes.nodeHash(peak, root);
      }
    }
    return root;
  }

  private void loadPeaks(long treeSize) {
    java.util.Arrays.fill(peaks, null);
    long start = 0;
    for (int level = 63; level >= 0; level--) {
      if ((treeSize & (1L << level)) != 0) {
        peaks[level] = node(level, start >> level);
        start += 1L << level;
      }
    }
    size = treeSize;
  }

  private byte[] node(int level, long index) {
    byte[] h = nodes.get(level, index);
    if (h == null) {
      throw new IllegalStateException("missing Merkle node level " + level + " index " + index);
    }
    return h;
  }

  /**
   * Recomputes every complete subtree of the first {@code size} stored leaves and checks each
   * against the stored node, then returns the root: a full check of a node store that came from
   * elsewhere (a snapshot), at one hash per leaf. Throws IllegalStateException at the first
   * mismatch.
   */
  public byte[] verifyStored(long size) {
    byte[][] pending = new byte[64][];
    for (long leaf = 0; leaf < size; leaf++) {
      fold(
          pending,
          leaf,
          node(0, leaf),
          (level, index, hash) -> {
            if (level > 0 && !java.util.Arrays.equals(hash, node(level, index))) {
              throw new IllegalStateException(
                  "Merkle node level "
                      + level
                      + " index "
                      + index
                      + " does not match its children");
            }
          });
    }
    return root(size);
  }

  /**
   * Adds leaf {@code leafIndex} to the complete subtrees pending by level: hands the leaf and every
   * subtree it completes to {@code completed}, in post-order, and leaves the new peak in {@code
   * pending}.
   */
  private static void fold(byte[][] pending, long leafIndex, byte[] leafHash, Completed completed) {
    byte[] current = leafHash;
    long index = leafIndex;
    int level = 0;
    completed.node(level, index, current);
    while ((index & 1) == 1) {
      current = Hashes.nodeHash(pending[level], current);
      pending[level] = null;
      index >>= 1;
      level++;
      completed.node(level, index, current);
    }
    pending[level] = current;
  }

  /** Receives each complete subtree as {@link #fold} makes it. */
  @FunctionalInterface
  private interface Completed {
    void node(int level, long index, byte[] hash);
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

  /** MTH of leaves [start, start + size); the range must lie within the appended leaves. */
  public byte[] rangeHash(long start, long size) {
    if (size == 0) {
      return Hashes.emptyRoot();
    }
    if (Long.bitCount(size) == 1 && start % size == 0) {
      int level = Long.numberOfTrailingZeros(size);
      return node(level, start >> level);
    }
    long k = Long.highestOneBit(size - 1);
    return Hashes.nodeHash(rangeHash(start, k), rangeHash(start + k, size - k));
  }

  /**
   * RFC 9162 §2.1.3.1 inclusion proof of leaf {@code leafIndex} (0-based) in the tree of {@code
   * treeSize} leaves.
   */
  public List<byte[]> inclusionProof(long leafIndex, long treeSize) {
    return inclusionProof(leafIndex, 0, treeSize);
  }

  /**
   * Inclusion proof of leaf {@code start + offset} within the subtree of leaves [start, start +
   * size).
   */
  public List<byte[]> inclusionProof(long offset, long start, long size) {
    if (offset < 0 || offset >= size) {
      throw new IllegalArgumentException("leaf " + offset + " is not in a tree of " + size);
    }
    List<byte[]> proof = new ArrayList<>();
    path(offset, start, size, proof);
    return proof;
  }

  private void path(long m, long start, long n, List<byte[]> out) {
    if (n <= 1) {
      return;
    }
    long k = Long.highestOneBit(n - 1);
    if (m < k) {
      path(m, start, k, out);
      out.add(rangeHash(start + k, n - k));
    } else {
      path(m - k, start + k, n - k, out);
      out.add(rangeHash(start, k));
    }
  }

  /**
   * RFC 9162 §2.1.4.1 consistency proof between the trees of {@code first} and {@code second}
   * leaves.
   */
  public List<byte[]> consistencyProof(long first, long second) {
    if (first < 1 || first > second) {
      throw new IllegalArgumentException("no consistency proof from " + first + " to " + second);
    }
    List<byte[]> proof = new ArrayList<>();
    subproof(first, 0, second, true, proof);
    return proof;
  }

  private void subproof(long m, long start, long n, boolean whole, List<byte[]> out) {
    if (m == n) {
      if (!whole) {
        out.add(rangeHash(start, n));
      }
      return;
    }
    long k = Long.highestOneBit(n - 1);
    if (m <= k) {
      subproof(m, start, k, whole, out);
      out.add(rangeHash(start + k, n - k));
    } else {
      subproof(m - k, start + k, n - k, false, out);
      out.add(rangeHash(start, k));
    }
  }
}
