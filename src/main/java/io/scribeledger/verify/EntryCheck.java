package io.scribeledger.verify;

import io.scribeledger.ledger.CanonicalEntry;
import io.scribeledger.merkle.Hashes;
import java.security.MessageDigest;
import java.util.List;

/**
 * Everything a client checks about one entry before believing it: the value hashes to the entry's
 * value hash, the entry's fields hash to its leaf hash, the audit path leads from that leaf to the
 * tree head's root, the head is signed by the trusted key, and (when sealed) the leaf is in its
 * segment's root. Pure; each step throws {@link Failed} with the reason.
 */
public final class EntryCheck {

  /** A check did not hold; the message says which and why. */
  public static final class Failed extends Exception {
    public Failed(String message) {
      super(message);
    }
  }

  private EntryCheck() {}

  public static void value(byte[] value, byte[] valueSha256) throws Failed {
    if (!MessageDigest.isEqual(Hashes.sha256(value), valueSha256)) {
      throw new Failed("the value does not hash to the entry's valueSha256");
    }
  }

  public static void leaf(CanonicalEntry entry, byte[] claimedLeafHash) throws Failed {
    if (!MessageDigest.isEqual(entry.leafHash(), claimedLeafHash)) {
      throw new Failed("the entry's fields do not hash to its leafHash");
    }
  }

  public static void inclusion(long index, byte[] leafHash, List<byte[]> auditPath, TreeHead head)
      throws Failed {
    if (!MerkleVerifier.verifyInclusion(
        index - 1, head.treeSize(), leafHash, auditPath, head.rootHash())) {
      throw new Failed("the audit path does not lead from the leaf to the tree head's root");
    }
  }

  public static void segment(
      long index,
      byte[] leafHash,
      long firstIndex,
      long lastIndex,
      byte[] merkleRoot,
      List<byte[]> auditPath)
      throws Failed {
    if (!MerkleVerifier.verifyInclusion(
        index - firstIndex, lastIndex - firstIndex + 1, leafHash, auditPath, merkleRoot)) {
      throw new Failed("the segment audit path does not lead from the leaf to the segment's root");
    }
  }

  /**
   * The head's signature is valid under {@code trustedKey} (or its own key, when none is pinned).
   */
  /**
   * The head is signed by one of the pinned member keys (any one: every member signs its own heads)
   * and, when {@code expectedCluster} is given, names that cluster in a version-2 head.
   */
  public static void signature(TreeHead head, List<byte[]> pinnedKeys, String expectedCluster)
      throws Failed {
    if (expectedCluster != null
        && (head.version() < 2 || !expectedCluster.equals(head.clusterId()))) {
      throw new Failed(
          "the tree head names cluster "
              + (head.version() < 2 ? "(none: a version-1 head)" : head.clusterId())
              + ", not "
              + expectedCluster);
    }
    if (pinnedKeys.stream().noneMatch(k -> MessageDigest.isEqual(k, head.publicKey()))) {
      throw new Failed("the tree head is signed by a key that is not pinned");
    }
    if (!head.signatureValid(head.publicKey())) {
      throw new Failed("the tree head signature is not valid");
    }
  }

  public static void signature(TreeHead head, byte[] trustedKey) throws Failed {
    if (trustedKey != null && !MessageDigest.isEqual(trustedKey, head.publicKey())) {
      throw new Failed("the tree head is signed by a key other than the trusted one");
    }
    if (!head.signatureValid(trustedKey != null ? trustedKey : head.publicKey())) {
      throw new Failed("the tree head signature is not valid");
    }
  }
}
