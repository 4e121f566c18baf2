package io.scribeledger.cli;

import io.scribeledger.merkle.Hashes;
import io.scribeledger.tier.ArchiveReader;
import io.scribeledger.tier.S3Archive;
import io.scribeledger.verify.EntryCheck.Failed;
import io.scribeledger.verify.MerkleVerifier;
import io.scribeledger.verify.TreeHead;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code scribe audit}: holds a node to what it signed before. The state file keeps the last
 * trusted tree head; each run checks the new head is signed by a pinned member key ({@code --keys},
 * or else the key first trusted) and that a consistency proof links the trusted tree to it, then
 * advances the file. Any other outcome fails loudly.
 */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description =
        "Checks the node's new signed tree head extends the trusted one kept in --state; or, with"
            + " --archive, checks an S3 archive against the heads the given keys signed.")
final class AuditCommand implements Callable<Integer> {

  @Mixin NodeConnection node;

  @Mixin PinnedKeys pins;

  @Option(
      names = "--state",
      description = "file holding the trusted tree head (created on first run; with --url)")
  Path state;

  @Option(
      names = "--archive",
      description =
          "audit an S3 archive instead of a node: s3://bucket/prefix (needs --public-key)")
  String archive;

  @Mixin ArchiveOptions s3;

  @Mixin ArchiveTrust archiveTrust;

  @Override
  public Integer call() {
    PrintWriter out = node.out();
    PrintWriter err = node.err();
    if (archive != null) {
      return auditArchive(out, err);
    }
    if (state == null) {
      err.println("scribe audit: --state is required to audit a node (--url)");
      return ScribeCli.UNREACHABLE;
    }
    try {
      LedgerHttp http = node.http();
      TreeHead head = Wire.treeHead(http.json("/ledger/head"));
      if (!Files.exists(state)) {
        pins.check(head, null);
        save(head);
        out.printf(
            "trusted head initialised: tree size %d, root %s, node key %s%n",
            head.treeSize(), Hashes.hex(head.rootHash()), Wire.fingerprint(head.publicKey()));
        return 0;
      }
      TreeHead trusted = load();
      // Pinned keys: any member's head is accepted; otherwise only the key first trusted.
      pins.check(head, trusted.publicKey());
      check(http, trusted, head);
      save(head);
      out.printf(
          "consistent: tree grew from %d to %d entries; trusted head advanced to root %s%n",
          trusted.treeSize(), head.treeSize(), Hashes.hex(head.rootHash()));
      return 0;
    } catch (Failed | LedgerHttp.Refused e) {
      err.println("AUDIT FAILED: " + e.getMessage());
      return ScribeCli.FAILED;
    } catch (LedgerHttp.Unreachable e) {
      err.println("scribe audit: " + e.getMessage());
      return ScribeCli.UNREACHABLE;
    }
  }

  /**
   * Checks every archived segment and signed head without any node: the tree recomputed from the
   * archive's entries must be the one the pinned keys signed at each segment's end.
   */
  private int auditArchive(PrintWriter out, PrintWriter err) {
    try (S3Archive store = s3.open(archive)) {
      Path work = Files.createTempDirectory("scribe-audit");
      try {
        // A segment at a time is downloaded into work and deleted once checked.
        ArchiveReader.Result r =
            ArchiveReader.walk(
                store, work, s3.maxSegmentBytes, archiveTrust.trust(pins.cluster), (m, file) -> {});
        out.printf(
            "archive verified: %d segments, entries 1..%d, root %s as signed by %s%n",
            r.segments(), r.entries(), Hashes.hex(r.root()), ArchiveTrust.signer(r.lastSigned()));
        r.latest()
            .filter(h -> h.treeSize() > r.entries())
            .ifPresent(
                h ->
                    out.printf(
                        "not yet archived: entries %d..%d (newest published head)%n",
                        r.entries() + 1, h.treeSize()));
        if (r.latest().isEmpty()) {
          out.println(ArchiveTrust.NO_LATEST_HEAD);
        }
        return 0;
      } finally {
        Files.deleteIfExists(work);
      }
    } catch (Failed e) {
      err.println("ARCHIVE AUDIT FAILED: " + e.getMessage());
      return ScribeCli.FAILED;
    } catch (IOException | RuntimeException e) {
      err.println("scribe audit: " + e.getMessage());
      return ScribeCli.UNREACHABLE;
    }
  }

  private static void check(LedgerHttp http, TreeHead trusted, TreeHead head)
      throws Failed, LedgerHttp.Unreachable, LedgerHttp.Refused {
    if (head.treeSize() < trusted.treeSize()) {
      throw new Failed(
          "HISTORY CHANGED: the ledger shrank from "
              + trusted.treeSize()
              + " to "
              + head.treeSize()
              + " entries");
    }
    if (head.treeSize() == trusted.treeSize()) {
      if (!MessageDigest.isEqual(head.rootHash(), trusted.rootHash())) {
        throw new Failed(
            "HISTORY CHANGED: tree size " + head.treeSize() + " now has a different root");
      }
      return;
    }
    if (trusted.treeSize() == 0) {
      // Every tree extends the empty one and there is no proof to ask for (RFC 9162 defines none
      // from size 0); what can still be wrong is a head of size 0 that did not carry the empty
      // root.
      if (!MessageDigest.isEqual(trusted.rootHash(), Hashes.emptyRoot())) {
        throw new Failed(
            "HISTORY CHANGED: the trusted empty tree had root "
                + Hashes.hex(trusted.rootHash())
                + ", not the empty tree's");
      }
      return;
    }
    JsonObject c =
        http.json("/ledger/consistency?first=" + trusted.treeSize() + "&second=" + head.treeSize());
    List<byte[]> proof = Wire.hexList(c, "proof");
    // The proof is checked against the root we trusted, never against the root the node reports for
    // it now.
    if (!MerkleVerifier.verifyConsistency(
        trusted.treeSize(), head.treeSize(), trusted.rootHash(), head.rootHash(), proof)) {
      throw new Failed(
          "HISTORY CHANGED: the tree of "
              + head.treeSize()
              + " entries does not extend the trusted tree of "
              + trusted.treeSize()
              + " entries");
    }
  }

  private TreeHead load() throws Failed {
    try {
      return Wire.treeHead(new JsonObject(Files.readString(state)));
    } catch (IOException | DecodeException e) {
      throw new Failed("cannot read the state file " + state + ": " + e.getMessage());
    }
  }

  private void save(TreeHead head) throws Failed {
    try {
      Path dir = state.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, ".scribe-audit", ".tmp");
      Files.writeString(tmp, head.toJson().encodePrettily());
      Files.move(tmp, state, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new Failed("cannot write the state file " + state + ": " + e.getMessage());
    }
  }
}
