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
 * A signed tree head (API.md, docs/VERIFICATION.md): the node's Ed25519 signature over, in version
 * 2, {@code "scribe-ledger-tree-head-v2" || u16 len || clusterId || u16 len || nodeId || u64
 * treeSize || u64 timestamp || rootHash} (strings UTF-8, integers big-endian), so a head names the
 * cluster and the member that signed it; version 1 signed {@code "scribe-ledger-tree-head-v1" ||
 * u64 treeSize || u64 timestamp || rootHash} and is still verified. Pure: a client checks it with
 * the public key it trusts.
 */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record TreeHead(
    int version,
    String clusterId,
    long treeSize,
    byte[] rootHash,
    long timestamp,
    String nodeId,
    byte[] signature,
    byte[] publicKey) {

  /** The version nodes sign now. */
  public static final int CURRENT_VERSION = 2;

  private static final byte[] DOMAIN_V1 =
      "scribe-ledger-tree-head-v1".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DOMAIN_V2 =
      "scribe-ledger-tree-head-v2".getBytes(StandardCharsets.US_ASCII);

  /** The bytes that are signed for a head of {@code version} (1 ignores the two names). */
  public static byte[] signedBytes(
      int version,
      String clusterId,
      String nodeId,
      long treeSize,
      long timestamp,
      byte[] rootHash) {
    if (version == 1) {
      return ByteBuffer.allocate(DOMAIN_V1.length + 16 + rootHash.length)
          .put(DOMAIN_V1)
          .putLong(treeSize)
          .putLong(timestamp)
          .put(rootHash)
          .array();
    }
    if (version != 2) {
      throw new IllegalArgumentException("unknown tree head version " + version);
    }
    byte[] cluster = clusterId.getBytes(StandardCharsets.UTF_8);
    byte[] node = nodeId.getBytes(StandardCharsets.UTF_8);
    if (cluster.length > 0xFFFF || node.length > 0xFFFF) {
      throw new IllegalArgumentException("a cluster or node id longer than 65535 bytes");
    }
    return ByteBuffer.allocate(
            DOMAIN_V2.length + 4 + cluster.length + node.length + 16 + rootHash.length)
        .put(DOMAIN_V2)
        .putShort((short) cluster.length)
        .put(cluster)
        .putShort((short) node.length)
        .put(node)
        .putLong(treeSize)
        .putLong(timestamp)
        .put(rootHash)
        .array();
  }

  /** The bytes this head's signature covers. */
  public byte[] signedBytes() {
    return signedBytes(version, clusterId, nodeId, treeSize, timestamp, rootHash);
  }

  /** The API's JSON form (API.md, {@code /ledger/head}): hex root, base64 signature and key. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("version", version);
    if (version >= 2) {
      json.put("clusterId", clusterId);
    }
    return json.put("treeSize", treeSize)
        .put("rootHash", Hashes.hex(rootHash))
        .put("timestamp", timestamp)
        .put("nodeId", nodeId)
        .put("signature", Base64.getEncoder().encodeToString(signature))
        .put("publicKey", Base64.getEncoder().encodeToString(publicKey));
  }

  /**
   * Reads {@link #toJson}'s form (a head without {@code version} is version 1); {@link
   * IllegalArgumentException} naming the field when anything is missing or malformed.
   */
  public static TreeHead fromJson(JsonObject h) {
    Object v = h.getValue("version", 1);
    if (!(v instanceof Number n) || (n.intValue() != 1 && n.intValue() != 2)) {
      throw new IllegalArgumentException("a tree head of unknown version " + v);
    }
    int version = n.intValue();
    byte[] root = decoded(h, "rootHash", Hashes::fromHex);
    if (root.length != Hashes.SIZE) {
      throw new IllegalArgumentException("rootHash is not a 32-byte hash");
    }
    return new TreeHead(
        version,
        version >= 2 ? text(h, "clusterId") : "",
        number(h, "treeSize"),
        root,
        number(h, "timestamp"),
        text(h, "nodeId"),
        decoded(h, "signature", Base64.getDecoder()::decode),
        decoded(h, "publicKey", Base64.getDecoder()::decode));
  }

  private static String text(JsonObject h, String field) {
    if (!(h.getValue(field) instanceof String s)) {
      throw new IllegalArgumentException(field + " is missing");
    }
    return s;
  }

  private static long number(JsonObject h, String field) {
    if (!(h.getValue(field) instanceof Number n) || n.doubleValue() != n.longValue()) {
      throw new IllegalArgumentException(field + " is missing or not an integer");
    }
    return n.longValue();
  }

  private static byte[] decoded(
      JsonObject h, String field, java.util.function.Function<String, byte[]> decoder) {
    try {
      return decoder.apply(text(h, field).trim());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(field + " is missing or not encoded as it should be", e);
    }
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
      verifier.update(signedBytes());
      return verifier.verify(signature);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }
}
