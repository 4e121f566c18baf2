package io.scribeledger.verify;

import io.scribeledger.merkle.Hashes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * RFC 9162 §2.1.3.2 and §2.1.4.2 proof verification. Pure Java, no I/O: a client checks what a node
 * served without trusting the node. Every method answers true only for a valid proof.
 */
public final class MerkleVerifier {

  private MerkleVerifier() {}

  /**
   * Whether {@code proof} shows {@code leafHash} at {@code leafIndex} (0-based) in the tree with
   * {@code root}.
   */
  public static boolean verifyInclusion(
      long leafIndex, long treeSize, byte[] leafHash, List<byte[]> proof, byte[] root) {
    if (leafIndex < 0 || leafIndex >= treeSize || !isHash(leafHash) || !isHash(root)) {
      return false;
    }
    byte[] r = rootFromInclusion(leafIndex, treeSize, leafHash, proof);
    return r != null && MessageDigest.isEqual(r, root);
  }

  /** The root an inclusion proof leads to, or null when the proof has the wrong shape. */
  static byte[] rootFromInclusion(
      long leafIndex, long treeSize, byte[] leafHash, List<byte[]> proof) {
    long fn = leafIndex;
    long sn = treeSize - 1;
    byte[] r = leafHash;
    for (byte[] p : proof) {
      if (sn == 0 || !isHash(p)) {
        return null;
      }
      if ((fn & 1) == 1 || fn == sn) {
        r = Hashes.nodeHash(p, r);
        if ((fn & 1) == 0) {
          while ((fn & 1) == 0 && fn != 0) {
            fn >>= 1;
            sn >>= 1;
          }
        }
      } else {
        r = Hashes.nodeHash(r, p);
      }
      fn >>= 1;
      sn >>= 1;
    }
    return sn == 0 ? r : null;
  }

  /**
   * Whether {@code proof} shows the tree of {@code size2} leaves with {@code root2} extends the
   * tree of {@code size1} leaves with {@code root1}. A consistency claim about an empty tree proves
   * nothing and is refused.
   */
  public static boolean verifyConsistency(
      long size1, long size2, byte[] root1, byte[] root2, List<byte[]> proof) {
    if (size1 < 1 || size2 < size1) {
      return false;
    }
    if (size1 == size2) {
      return proof.isEmpty() && MessageDigest.isEqual(root1, root2);
    }
    if (proof.isEmpty() || !isHash(root1) || !isHash(root2)) {
      return false;
    }
    List<byte[]> path = new ArrayList<>(proof);
    if (Long.bitCount(size1) == 1) {
      path.add(0, root1);
    }
    long fn = size1 - 1;
    long sn = size2 - 1;
    while ((fn & 1) == 1) {
      fn >>= 1;
      sn >>= 1;
    }
    byte[] fr = path.get(0);
    byte[] sr = path.get(0);
    if (!isHash(fr)) {
      return false;
    }
    for (byte[] c : path.subList(1, path.size())) {
      if (sn == 0 || !isHash(c)) {
        return false;
      }
      if ((fn & 1) == 1 || fn == sn) {
        fr = Hashes.nodeHash(c, fr);
        sr = Hashes.nodeHash(c, sr);
        if ((fn & 1) == 0) {
          while ((fn & 1) == 0 && fn != 0) {
            fn >>= 1;
            sn >>= 1;
          }
        }
      } else {
        sr = Hashes.nodeHash(sr, c);
      }
      fn >>= 1;
      sn >>= 1;
    }
    return sn == 0 && MessageDigest.isEqual(fr, root1) && MessageDigest.isEqual(sr, root2);
  }

  private static boolean isHash(byte[] h) {
    return h != null && h.length == Hashes.SIZE;
  }
}
