package io.scribeledger.merkle;

/**
 * Where a {@link MerkleTree} keeps the hash of every complete subtree, addressed by (level, index).
 * The tree puts nodes in post-order, the order in which they complete, so a store may be a plain
 * append-only file.
 */
public interface NodeStore {

  /** Stores the hash of complete subtree {@code index} at {@code level} (leaves are level 0). */
  void put(int level, long index, byte[] hash);

  /** The stored hash, or null when that subtree is not complete yet. */
  byte[] get(int level, long index);

  /**
   * Position of node (level, index) in post-order: the subtree completes when its last leaf {@code
   * m} is appended, after the {@code 2m - popcount(m)} nodes the first m leaves made and the {@code
   * level} nodes below it on the same append.
   */
  static long postOrderPosition(int level, long index) {
    long m = ((index + 1) << level) - 1;
    return 2 * m - Long.bitCount(m) + level;
  }

  /** Number of nodes a tree of {@code leaves} leaves has stored. */
  static long nodeCount(long leaves) {
    return 2 * leaves - Long.bitCount(leaves);
  }
}
