package io.scribeledger.merkle;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 and the RFC 9162 leaf/node hashing; pure functions, safe to share with clients. */
public final class Hashes {

  public static final int SIZE = 32;
  private static final HexFormat HEX = HexFormat.of();

  /**
   * Never updated, only cloned: a provider lookup per hash ({@code MessageDigest.getInstance})
   * costs more than the hash of a small leaf, and a restarted node hashes every entry it catches up
   * on before the JIT has compiled that lookup.
   */
  private static final MessageDigest SHA256_PROTOTYPE = newSha256();

  private Hashes() {}

  /** A fresh SHA-256 digest. */
  public static MessageDigest sha256() {
    try {
      return (MessageDigest) SHA256_PROTOTYPE.clone();
    } catch (CloneNotSupportedException e) {
      return newSha256();
    }
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  public static byte[] sha256(byte[] data) {
    return sha256().digest(data);
  }

  /** SHA-256 of a file's bytes, read 64 KiB at a time. */
  public static byte[] sha256(java.nio.file.Path file) throws java.io.IOException {
    MessageDigest sha = sha256();
    try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
      byte[] buf = new byte[64 * 1024];
      int n;
      while ((n = in.read(buf)) > 0) {
        sha.update(buf, 0, n);
      }
    }
    return sha.digest();
  }

  /** {@code SHA-256(0x00 || leaf)}. */
  public static byte[] leafHash(byte[] leaf) {
    MessageDigest d = sha256();
    d.update((byte) 0x00);
    d.update(leaf);
    return d.digest();
  }

  /** {@code SHA-256(0x01 || left || right)}. */
  public static byte[] nodeHash(byte[] left, byte[] right) {
    MessageDigest d = sha256();
    d.update((byte) 0x01);
    d.update(left);
    d.update(right);
    return d.digest();
  }

  /** The root of the empty tree: SHA-256 of the empty string. */
  public static byte[] emptyRoot() {
    return sha256(new byte[0]);
  }

  public static String hex(byte[] hash) {
    return HEX.formatHex(hash);
  }

  public static byte[] fromHex(String hex) {
    return HEX.parseHex(hex);
  }
}
