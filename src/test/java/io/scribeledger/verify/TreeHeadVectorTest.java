package io.scribeledger.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.security.NodeKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The version-2 tree head test vector of docs/VERIFICATION.md: the RFC 8032 test-1 key (loaded as a
 * configured PEM signing key), fixed inputs, and the exact signed bytes and signature (checked
 * independently with {@code openssl pkeyutl -sign -rawin}).
 */
class TreeHeadVectorTest {

  static final String KEY_PEM =
      """
      -----BEGIN PRIVATE KEY-----
      MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
      -----END PRIVATE KEY-----
      """;
  static final String PUBLIC_KEY_DER =
      "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  static final String ROOT = "5b4bd9b5e4a0e63c4f1ac68df7a8ef4bff0b5b0d6f3e2c1a0b9c8d7e6f5a4b3c";
  static final String SIGNED_BYTES =
      "7363726962652d6c65646765722d747265652d686561642d7632000d7363726962652d6c6564676572"
          + "00026e3100000000000000030000019b76daa800"
          + ROOT;
  static final String SIGNATURE =
      "38e0a1194c2529d3652fc939c1a3280f685a7e92d65d61f88480a6ecf7cab2f5"
          + "f388746aecec48a555efb7f308240df7e4df3160779640cfdcbf188466d48d0d";

  @Test
  void aVersionTwoHeadSignsTheDocumentedBytes(@TempDir Path dir) throws Exception {
    Path key = dir.resolve("signing-key.pem");
    Files.writeString(key, KEY_PEM);
    NodeKeys keys = NodeKeys.load(key);
    HexFormat hex = HexFormat.of();
    assertEquals(PUBLIC_KEY_DER, hex.formatHex(keys.publicKey()), "derived from the seed alone");

    TreeHead head = keys.sign("scribe-ledger", "n1", 3, hex.parseHex(ROOT), 1_767_225_600_000L);
    assertEquals(2, head.version());
    assertEquals(SIGNED_BYTES, hex.formatHex(head.signedBytes()));
    assertEquals(SIGNATURE, hex.formatHex(head.signature()), "Ed25519 is deterministic");
    assertTrue(head.signatureValid(hex.parseHex(PUBLIC_KEY_DER)));

    // The same signature does not hold for a version-1 reading of the head, or another cluster.
    assertFalse(
        new TreeHead(
                1,
                "",
                3,
                hex.parseHex(ROOT),
                1_767_225_600_000L,
                "n1",
                head.signature(),
                head.publicKey())
            .signatureValid());
  }
}
