package io.scribeledger.verify;

import io.scribeledger.merkle.Hashes;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * A signed tree head (API.md): the node's Ed25519 signature over {@code
 * "scribe-ledger-tree-head-v1" || u64 treeSize || u64 timestamp || rootHash}. Pure: a client checks
 * it with the public key it trusts.
 */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record TreeHead(
    long treeSize,
    byte[] rootHash,
    long timestamp,
    String nodeId,
    byte[] signature,
    byte[] publicKey) {

  private static final byte[] DOMAIN =
      "scribe-ledger-tree-head-v1".getBytes(StandardCharsets.US_ASCII);

  /** The bytes that are signed. */
  public static byte[] signedBytes(long treeSize, long timestamp, byte[] rootHash) {
    return ByteBuffer.allocate(DOMAIN.length + 16 + rootHash.length)
        .put(DOMAIN)
        .putLong(treeSize)
        .putLong(timestamp)
        .put(rootHash)
        .array();
  }

  /** The API's JSON form (API.md, {@code /ledger/head}): hex root, base64 signature and key. */
  public JsonObject toJson() {
    return new JsonObject()
        .put("treeSize", treeSize)
        .put("rootHash", Hashes.hex(rootHash))
        .put("timestamp", timestamp)
        .put("nodeId", nodeId)
        .put("signature", Base64.getEncoder().encodeToString(signature))
        .put("publicKey", Base64.getEncoder().encodeToString(publicKey));
  }

  /** Whether the signature is valid for this head under the embedded public key. */
  public boolean signatureValid() {
    return signatureValid(publicKey);
  }

  /**
   * Whether the signature is valid for this head under {@code trustedKey} (X.509
   * SubjectPublicKeyInfo DER).
   */
  public boolean signatureValid(byte[] trustedKey) {
    try {
      PublicKey key =
          KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(trustedKey));
      Signature verifier = Signature.getInstance("Ed25519");
      verifier.initVerify(key);
      verifier.update(signedBytes(treeSize, timestamp, rootHash));
      return verifier.verify(signature);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }
}
