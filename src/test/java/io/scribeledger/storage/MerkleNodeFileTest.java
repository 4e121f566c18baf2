package io.scribeledger.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.scribeledger.merkle.Hashes;
import io.scribeledger.merkle.MemoryNodeStore;
import io.scribeledger.merkle.MerkleTree;
import io.scribeledger.merkle.NodeStore;
import io.scribeledger.verify.MerkleVerifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The append-only node file gives the same tree as memory, across buffer flushes, restarts and
 * crashes.
 */
class MerkleNodeFileTest {

  @TempDir Path dir;

  private static byte[] leaf(Random random) {
    byte[] leaf = new byte[32];
    random.nextBytes(leaf);
    return Hashes.leafHash(leaf);
  }

  @Test
  void postOrderPositionsAreTheOrderInWhichSubtreesComplete() {
    // Leaves 0..3 write: leaf 0, leaf 1, (1,0), leaf 2, leaf 3, (1,1), (2,0).
    long[][] order = {{0, 0}, {0, 1}, {1, 0}, {0, 2}, {0, 3}, {1, 1}, {2, 0}, {0, 4}};
    for (int position = 0; position < order.length; position++) {
      assertEquals(
          position, NodeStore.postOrderPosition((int) order[position][0], order[position][1]));
    }
    assertEquals(7, NodeStore.nodeCount(4));
    assertEquals(2 * 300 - Integer.bitCount(300), NodeStore.nodeCount(300));
  }

  @Test
  void rootsAndProofsMatchTheInMemoryTreeAcrossFlushesAndReopen() throws IOException {
    Path file = dir.resolve("merkle.nodes");
    Random random = new Random(7);
    MerkleTree expected = new MerkleTree(new MemoryNodeStore());
    int leaves = 5000; // more than one write buffer, so reads hit both the file and the buffer
    try (MerkleNodeFile nodes = new MerkleNodeFile(file, 0)) {
      MerkleTree tree = new MerkleTree(nodes);
      for (int i = 0; i < leaves; i++) {
        byte[] leaf = leaf(random);
        assertArrayEquals(expected.append(i, leaf), tree.append(i, leaf));
        if (i % 997 == 0) {
          assertArrayEquals(expected.root(i + 1), tree.root(i + 1), "root of " + (i + 1));
        }
      }
      nodes.sync();
      assertEquals(NodeStore.nodeCount(leaves) * Hashes.SIZE, Files.size(file));
    }
    try (MerkleNodeFile reopened = new MerkleNodeFile(file, leaves)) {
      MerkleTree tree = new MerkleTree(reopened);
      for (long size : new long[] {1, 2, 3, 1000, 4096, 4999, 5000}) {
        byte[] root = tree.root(size);
        assertArrayEquals(expected.root(size), root);
        long leaf = size / 3;
        assertEquals(
            true,
            MerkleVerifier.verifyInclusion(
                leaf, size, tree.rangeHash(leaf, 1), tree.inclusionProof(leaf, size), root),
            "proof of leaf " + leaf + " in " + size);
      }
      assertNull(reopened.get(0, leaves));
      byte[] next = leaf(random);
      assertArrayEquals(expected.append(leaves, next), tree.append(leaves, next));
    }
  }

  @Test
  void nodesAfterTheCommittedTreeAreDroppedOnOpenAndWrittenAgain() throws IOException {
    Path file = dir.resolve("merkle.nodes");
    Random random = new Random(9);
    byte[][] leaves = new byte[300][];
    for (int i = 0; i < leaves.length; i++) {
      leaves[i] = leaf(random);
    }
    try (MerkleNodeFile nodes = new MerkleNodeFile(file, 0)) {
      MerkleTree tree = new MerkleTree(nodes);
      for (int i = 0; i < 300; i++) {
        tree.append(i, leaves[i]);
      }
      nodes.sync();
    }
    // The index had committed 200 leaves when the node crashed: the file is cut back, the replay
    // continues it.
    MerkleTree expected = new MerkleTree(new MemoryNodeStore());
    try (MerkleNodeFile nodes = new MerkleNodeFile(file, 200)) {
      assertEquals(NodeStore.nodeCount(200) * Hashes.SIZE, Files.size(file));
      MerkleTree tree = new MerkleTree(nodes);
      for (int i = 0; i < 300; i++) {
        byte[] want = expected.append(i, leaves[i]);
        if (i >= 200) {
          assertArrayEquals(want, tree.append(i, leaves[i]), "root after replaying leaf " + i);
        }
      }
      assertArrayEquals(expected.root(300), tree.root(300));
    }
  }

  @Test
  void refusesOutOfOrderNodesAndAFileShorterThanTheCommittedTree() throws IOException {
    Path file = dir.resolve("merkle.nodes");
    try (MerkleNodeFile nodes = new MerkleNodeFile(file, 0)) {
      assertThrows(IllegalStateException.class, () -> nodes.put(0, 1, new byte[32]));
      nodes.put(0, 0, new byte[32]);
      nodes.sync();
    }
    assertThrows(IllegalStateException.class, () -> new MerkleNodeFile(file, 10));
  }
}
