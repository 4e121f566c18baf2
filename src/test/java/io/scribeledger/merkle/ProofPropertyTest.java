package io.scribeledger.merkle;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.security.NodeKeys;
import io.scribeledger.verify.MerkleVerifier;
import io.scribeledger.verify.TreeHead;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * For random tree sizes up to a few thousand leaves, every proof the tree serves verifies, and
 * flipping any bit of any proof element or index makes it fail. Tree sizes are bound by the signed
 * tree head: an RFC 9162 inclusion proof alone can verify under more than one size, so the size a
 * client trusts is the one in a head whose signature holds.
 */
class ProofPropertyTest {

  private static TreeHead with(
      TreeHead h, String cluster, String node, long size, byte[] root, long timestamp) {
    return new TreeHead(2, cluster, size, root, timestamp, node, h.signature(), h.publicKey());
  }

  static final Random RANDOM = new Random(2026);

  static MerkleTree tree(int size) {
    MerkleTree tree = new MerkleTree(new MemoryNodeStore());
    for (int i = 0; i < size; i++) {
      byte[] leaf = new byte[32];
      RANDOM.nextBytes(leaf);
      tree.append(i, leaf);
    }
    return tree;
  }

  static List<byte[]> flipped(List<byte[]> proof, int element, int bit) {
    List<byte[]> copy = new ArrayList<>();
    proof.forEach(p -> copy.add(p.clone()));
    copy.get(element)[bit / 8] ^= (byte) (1 << (bit % 8));
    return copy;
  }

  @Test
  void inclusionProofsVerifyAndEveryBitFlipBreaksThem() {
    for (int round = 0; round < 12; round++) {
      int size = 1 + RANDOM.nextInt(3000);
      MerkleTree tree = tree(size);
      byte[] root = tree.root(size);
      for (int probe = 0; probe < 3; probe++) {
        long leaf = RANDOM.nextInt(size);
        byte[] leafHash = tree.rangeHash(leaf, 1);
        List<byte[]> proof = tree.inclusionProof(leaf, size);
        assertTrue(
            MerkleVerifier.verifyInclusion(leaf, size, leafHash, proof, root),
            "size " + size + " leaf " + leaf);
        for (int e = 0; e < proof.size(); e++) {
          for (int bit = 0; bit < 256; bit++) {
            assertFalse(
                MerkleVerifier.verifyInclusion(leaf, size, leafHash, flipped(proof, e, bit), root));
          }
        }
        for (int bit = 0; bit < 63; bit++) {
          long other = leaf ^ (1L << bit);
          assertFalse(
              MerkleVerifier.verifyInclusion(other, size, leafHash, proof, root), "index " + other);
        }
        for (int bit = 0; bit < 256; bit++) {
          byte[] badLeaf = leafHash.clone();
          badLeaf[bit / 8] ^= (byte) (1 << (bit % 8));
          assertFalse(MerkleVerifier.verifyInclusion(leaf, size, badLeaf, proof, root));
        }
      }
    }
  }

  @Test
  void everyInclusionProofOfASmallTreeVerifies() {
    for (int size = 1; size <= 70; size++) {
      MerkleTree tree = tree(size);
      for (long leaf = 0; leaf < size; leaf++) {
        assertTrue(
            MerkleVerifier.verifyInclusion(
                leaf,
                size,
                tree.rangeHash(leaf, 1),
                tree.inclusionProof(leaf, size),
                tree.root(size)));
      }
    }
  }

  @Test
  void consistencyProofsVerifyAndEveryBitFlipBreaksThem() {
    for (int round = 0; round < 12; round++) {
      int second = 2 + RANDOM.nextInt(3000);
      MerkleTree tree = tree(second);
      for (int probe = 0; probe < 3; probe++) {
        long first = 1L + RANDOM.nextInt(second - 1);
        List<byte[]> proof = tree.consistencyProof(first, second);
        byte[] root1 = tree.root(first);
        byte[] root2 = tree.root(second);
        assertTrue(
            MerkleVerifier.verifyConsistency(first, second, root1, root2, proof),
            first + " -> " + second);
        for (int e = 0; e < proof.size(); e++) {
          for (int bit = 0; bit < 256; bit++) {
            assertFalse(
                MerkleVerifier.verifyConsistency(
                    first, second, root1, root2, flipped(proof, e, bit)));
          }
        }
        for (int bit = 0; bit < 256; bit++) {
          byte[] bad1 = root1.clone();
          bad1[bit / 8] ^= (byte) (1 << (bit % 8));
          assertFalse(MerkleVerifier.verifyConsistency(first, second, bad1, root2, proof));
          byte[] bad2 = root2.clone();
          bad2[bit / 8] ^= (byte) (1 << (bit % 8));
          assertFalse(MerkleVerifier.verifyConsistency(first, second, root1, bad2, proof));
        }
      }
    }
  }

  @Test
  void everyConsistencyProofOfASmallTreeVerifies() {
    MerkleTree tree = tree(70);
    for (long second = 1; second <= 70; second++) {
      for (long first = 1; first <= second; first++) {
        assertTrue(
            MerkleVerifier.verifyConsistency(
                first,
                second,
                tree.root(first),
                tree.root(second),
                tree.consistencyProof(first, second)),
            first + " -> " + second);
      }
    }
  }

  @Test
  void theSignedHeadBindsClusterNodeTreeSizeRootAndTimestamp(@TempDir Path dir) {
    NodeKeys keys = NodeKeys.loadOrCreate(dir);
    byte[] root = tree(37).root(37);
    TreeHead head = keys.sign("prod", "n1", 37, root, 1_700_000_000_000L);
    assertTrue(head.signatureValid());
    for (int bit = 0; bit < 64; bit++) {
      long size = head.treeSize() ^ (1L << bit);
      assertFalse(with(head, "prod", "n1", size, root, head.timestamp()).signatureValid());
      long ts = head.timestamp() ^ (1L << bit);
      assertFalse(with(head, "prod", "n1", 37, root, ts).signatureValid());
    }
    for (int bit = 0; bit < 256; bit++) {
      byte[] bad = root.clone();
      bad[bit / 8] ^= (byte) (1 << (bit % 8));
      assertFalse(with(head, "prod", "n1", 37, bad, head.timestamp()).signatureValid());
    }
    assertFalse(
        with(head, "staging", "n1", 37, root, head.timestamp()).signatureValid(),
        "the head names its cluster");
    assertFalse(
        with(head, "prod", "n2", 37, root, head.timestamp()).signatureValid(),
        "the head names its signer");
    byte[] otherKey = NodeKeys.loadOrCreate(dir.resolve("other")).publicKey();
    assertFalse(head.signatureValid(otherKey));
  }
}
