package io.scribeledger.cli;

import io.scribeledger.ledger.CanonicalEntry;
import io.scribeledger.ledger.Op;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.verify.EntryCheck;
import io.scribeledger.verify.EntryCheck.Failed;
import io.scribeledger.verify.TreeHead;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code scribe verify}: fetch a key's value, proof and signed head, and check all of it locally.
 */
@Command(
    name = "verify",
    description =
        "Fetches KEY's value, inclusion proof and signed tree head, and checks them locally.")
final class VerifyCommand implements Callable<Integer> {

  // Not mixinStandardHelpOptions: its --version would clash with ours (the key's version, as in the
  // API),
  // and picocli then dropped --help too; `scribe --version` prints the CLI's version.
  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help message and exit.")
  boolean help;

  @Mixin NodeConnection node;

  @Mixin PinnedKeys pins;

  @Option(names = "--version", description = "verify this version of the key (default: the latest)")
  Long version;

  @Option(
      names = "--public-key",
      description = "trusted node key: base64 X.509 DER, or @FILE holding it")
  String publicKey;

  @Parameters(index = "0", description = "the key (not URL-encoded)")
  String key;

  @Override
  public Integer call() {
    PrintWriter out = node.out();
    PrintWriter err = node.err();
    try {
      LedgerHttp http = node.http();
      String query = version == null ? "" : "?version=" + version;
      JsonObject proof = http.json("/verify/" + LedgerHttp.encode(key) + query);
      JsonObject entry = Wire.object(proof, "entry");
      long index = Wire.number(entry, "index");
      long entryVersion = Wire.number(entry, "version");
      Op op = Op.valueOf(Wire.string(entry, "op"));
      byte[] valueSha = Wire.hex(entry, "valueSha256");
      byte[] leaf = Wire.hex(entry, "leafHash");
      out.printf("entry      %s version %d, ledger index %d, %s%n", key, entryVersion, index, op);

      byte[] value = fetchValue(http, op, entryVersion);
      EntryCheck.value(value, valueSha);
      out.printf("value      %d bytes hash to %s: ok%n", value.length, short16(valueSha));

      CanonicalEntry canonical =
          new CanonicalEntry(
              index,
              Wire.number(entry, "timestamp"),
              op,
              key,
              op == Op.DELETE ? "" : Wire.string(entry, "contentType"),
              valueSha);
      EntryCheck.leaf(canonical, leaf);
      out.printf("leaf       recomputed from the entry's fields: %s: ok%n", short16(leaf));

      TreeHead head = Wire.treeHead(Wire.object(proof, "treeHead"));
      JsonObject inclusion = Wire.object(proof, "inclusion");
      if (Wire.number(inclusion, "treeSize") != head.treeSize()
          || !Hashes.hex(head.rootHash()).equals(Wire.string(inclusion, "rootHash"))) {
        throw new Failed("the inclusion proof is for a different tree than the signed head");
      }
      List<byte[]> path = Wire.hexList(inclusion, "auditPath");
      EntryCheck.inclusion(index, leaf, path, head);
      out.printf(
          "inclusion  %d-hash audit path leads to root %s of tree size %d: ok%n",
          path.size(), short16(head.rootHash()), head.treeSize());

      Object segment = proof.getValue("segment");
      if (segment instanceof JsonObject s) {
        EntryCheck.segment(
            index,
            leaf,
            Wire.number(s, "firstIndex"),
            Wire.number(s, "lastIndex"),
            Wire.hex(s, "merkleRoot"),
            Wire.hexList(s, "auditPath"));
        out.printf(
            "segment    in sealed segment %d (%d..%d) with root %s: ok%n",
            Wire.number(s, "id"),
            Wire.number(s, "firstIndex"),
            Wire.number(s, "lastIndex"),
            short16(Wire.hex(s, "merkleRoot")));
      }

      byte[] trusted = trustedKey();
      pins.check(head, trusted);
      out.printf(
          "signature  tree head signed by %s, key %s%s: ok%n",
          head.nodeId(),
          Wire.fingerprint(head.publicKey()),
          trusted == null && !pins.pinned()
              ? " (not pinned: pass --keys or --public-key to pin it)"
              : " (pinned)");
      out.println("verified");
      return 0;
    } catch (Failed | LedgerHttp.Refused e) {
      err.println("verification FAILED: " + e.getMessage());
      return ScribeCli.FAILED;
    } catch (LedgerHttp.Unreachable e) {
      err.println("scribe verify: " + e.getMessage());
      return ScribeCli.UNREACHABLE;
    }
  }

  private byte[] fetchValue(LedgerHttp http, Op op, long entryVersion)
      throws LedgerHttp.Unreachable, Failed {
    if (op == Op.DELETE) {
      return new byte[0];
    }
    HttpResponse<byte[]> r = http.get("/kv/" + LedgerHttp.encode(key) + "?version=" + entryVersion);
    if (r.statusCode() != 200) {
      throw new Failed(
          "the node would not serve version "
              + entryVersion
              + " ("
              + r.statusCode()
              + ": "
              + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8)
              + ")");
    }
    return r.body();
  }

  private byte[] trustedKey() throws Failed {
    if (publicKey == null) {
      return null;
    }
    String text = publicKey;
    if (text.startsWith("@")) {
      try {
        text = Files.readString(Path.of(text.substring(1)));
      } catch (java.io.IOException e) {
        throw new Failed("cannot read " + text.substring(1) + ": " + e.getMessage());
      }
    }
    return Wire.base64(text, "--public-key");
  }

  private static String short16(byte[] hash) {
    return Hashes.hex(hash).substring(0, 16) + "…";
  }
}
