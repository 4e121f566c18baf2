package io.scribeledger.cli;

import io.scribeledger.verify.EntryCheck;
import io.scribeledger.verify.EntryCheck.Failed;
import io.scribeledger.verify.TreeHead;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The keys an archive's signed heads are checked against: given on the command line, never taken
 * from the archive (whoever can write the bucket could sign with a key of their own).
 */
final class ArchiveTrust {

  @Option(
      names = "--public-key",
      description =
          "a member's public key (base64 X.509, as /cluster/members lists it) that may have signed"
              + " the archive's heads; repeat for each leader's key")
  List<String> publicKeys = new ArrayList<>();

  /**
   * A check of heads against the given keys (and {@code cluster}, when not null); fails when no key
   * was given.
   */
  io.scribeledger.tier.ArchiveReader.Trust trust(String cluster) throws Failed {
    if (publicKeys.isEmpty()) {
      throw new Failed(
          "name the key(s) the archive must be signed with (--public-key): a key found in the"
              + " archive proves nothing");
    }
    List<byte[]> keys = new ArrayList<>();
    for (String k : publicKeys) {
      keys.add(Wire.base64(k, "--public-key"));
    }
    return head -> EntryCheck.signature(head, keys, cluster);
  }

  /** Said when the archive holds no newest head: nothing shows that it was not cut short. */
  static final String NO_LATEST_HEAD =
      "WARNING: the archive holds no newest published head (heads/latest.json): nothing here shows"
          + " whether archived segments after the last one were removed; compare with a head you"
          + " trust";

  /** A short fingerprint of the key that signed {@code head}. */
  static String signer(TreeHead head) {
    return head.nodeId() + " (key " + Wire.fingerprint(head.publicKey()) + ")";
  }
}
