package io.scribeledger.cli;

import io.scribeledger.verify.EntryCheck;
import io.scribeledger.verify.EntryCheck.Failed;
import io.scribeledger.verify.TreeHead;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The member keys and cluster a client pins, obtained out of band (docs/SECURITY.md): a head is
 * trusted only when one of these keys signed it for this cluster.
 */
final class PinnedKeys {

  @Option(
      names = "--keys",
      description =
          "file of pinned member keys, one base64 X.509 key per line ('#' starts a comment): a"
              + " head signed by any of them is accepted, by no other")
  Path keysFile;

  @Option(
      names = "--cluster",
      description = "the cluster id every tree head must name (node.clusterId)")
  String cluster;

  boolean pinned() {
    return keysFile != null;
  }

  /**
   * Checks {@code head} against the pinned keys and cluster; without {@code --keys}, against {@code
   * fallbackKey} (the one key trusted before), or the head's own key when that is null.
   */
  void check(TreeHead head, byte[] fallbackKey) throws Failed {
    if (keysFile != null) {
      // A pinned key may sign for more than one cluster (a shared key file), and a version-1
      // head names none: pinning needs the cluster too.
      if (cluster == null) {
        throw new Failed("--keys needs --cluster: a key may sign heads of more than one cluster");
      }
      EntryCheck.signature(head, keys(), cluster);
      return;
    }
    if (cluster != null) {
      EntryCheck.signature(head, List.of(head.publicKey()), cluster);
    }
    EntryCheck.signature(head, fallbackKey);
  }

  private List<byte[]> keys() throws Failed {
    List<byte[]> keys = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(keysFile, StandardCharsets.UTF_8)) {
        String t = line.strip();
        if (!t.isEmpty() && !t.startsWith("#")) {
          keys.add(Wire.base64(t, "--keys " + keysFile));
        }
      }
    } catch (IOException e) {
      throw new Failed("cannot read " + keysFile + ": " + e.getMessage());
    }
    if (keys.isEmpty()) {
      throw new Failed(keysFile + " pins no key");
    }
    return keys;
  }
}
