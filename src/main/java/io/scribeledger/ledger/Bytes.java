package io.scribeledger.ledger;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Length-prefixed fields for the binary codecs; a malformed buffer fails with
 * IllegalArgumentException.
 */
public final class Bytes {

  private Bytes() {}

  public static int sizeOf(byte[] field) {
    return 4 + field.length;
  }

  public static void put(ByteBuffer b, byte[] field) {
    b.putInt(field.length).put(field);
  }

  public static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** {@code kind}, a u32 count, then each part length-prefixed: how batches travel. */
  public static byte[] list(byte kind, java.util.List<byte[]> parts) {
    int size = 1 + 4;
    for (byte[] part : parts) {
      size += sizeOf(part);
    }
    ByteBuffer b = ByteBuffer.allocate(size).put(kind).putInt(parts.size());
    parts.forEach(part -> put(b, part));
    return b.array();
  }

  /** The parts of a {@link #list} whose kind byte was already read. */
  public static java.util.List<byte[]> getList(ByteBuffer b) {
    int count = b.getInt();
    if (count < 0 || count > b.remaining() / 4) {
      throw new IllegalArgumentException(
          "list of " + count + " parts in " + b.remaining() + " bytes");
    }
    java.util.List<byte[]> parts = new java.util.ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      parts.add(get(b));
    }
    return parts;
  }

  public static byte[] get(ByteBuffer b) {
    int len = b.getInt();
    if (len < 0 || len > b.remaining()) {
      throw new IllegalArgumentException(
          "field length " + len + " exceeds " + b.remaining() + " remaining bytes");
    }
    byte[] out = new byte[len];
    b.get(out);
    return out;
  }

  public static String getString(ByteBuffer b) {
    return new String(get(b), StandardCharsets.UTF_8);
  }

  public static byte[] getFixed(ByteBuffer b, int len) {
    if (len > b.remaining()) {
      throw new IllegalArgumentException(
          "expected " + len + " bytes, " + b.remaining() + " remain");
    }
    byte[] out = new byte[len];
    b.get(out);
    return out;
  }
}
