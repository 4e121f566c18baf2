package io.scribeledger.storage;

import io.scribeledger.merkle.Hashes;
import io.scribeledger.merkle.NodeStore;
import java.nio.file.Path;

/**
 * The Merkle tree's complete-subtree hashes in one append-only file, in post-order: appending a
 * leaf writes the leaf and the subtrees it completes next to each other, so the file only grows at
 * its end (like a transparency log's tiles) and node (level, index) sits at a computable offset.
 */
public final class MerkleNodeFile implements NodeStore, AutoCloseable {

  private final FixedRecordFile file;

  /**
   * Opens {@code file} holding the nodes of a committed tree of {@code leaves} leaves, dropping
   * later ones.
   */
  public MerkleNodeFile(Path file, long leaves) {
    this(file, leaves, FileOpener.DEFAULT);
  }

  /** As above, appending through a channel from {@code opener}. */
  public MerkleNodeFile(Path file, long leaves, FileOpener opener) {
    this.file = new FixedRecordFile(file, Hashes.SIZE, NodeStore.nodeCount(leaves), opener);
  }

  @Override
  public void put(int level, long index, byte[] hash) {
    file.append(NodeStore.postOrderPosition(level, index), hash);
  }

  @Override
  public byte[] get(int level, long index) {
    return file.read(NodeStore.postOrderPosition(level, index));
  }

  /**
   * Writes buffered nodes and forces them to disk; called before the index commit that counts them.
   */
  public void sync() {
    file.sync();
  }

  @Override
  public void close() {
    file.close();
  }
}
