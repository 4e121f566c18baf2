package io.scribeledger.ledger;

import io.scribeledger.merkle.Hashes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The canonical byte form of an entry (API.md, "Data model") and its Merkle leaf hash. Pure: a
 * client rebuilds the leaf hash from the fields a receipt or {@code /history} gives it.
 */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record CanonicalEntry(
    long index, long timestamp, Op op, String key, String contentType, byte[] valueSha256) {

  public static final byte FORMAT_VERSION = 0x01;

  public byte[] encode() {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    byte[] ct = (op == Op.DELETE ? "" : contentType).getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 1 + 4 + k.length + 4 + ct.length + Hashes.SIZE);
    b.put(FORMAT_VERSION)
        .putLong(index)
        .putLong(timestamp)
        .put((byte) op.code())
        .putInt(k.length)
        .put(k)
        .putInt(ct.length)
        .put(ct)
        .put(valueSha256);
    return b.array();
  }

  /** Reads an entry back from its canonical bytes; fails on bytes that are not one. */
  public static CanonicalEntry decode(byte[] canonical) {
    ByteBuffer b = ByteBuffer.wrap(canonical);
    if (b.get() != FORMAT_VERSION) {
      throw new IllegalArgumentException("unknown canonical entry format " + canonical[0]);
    }
    long index = b.getLong();
    long timestamp = b.getLong();
    Op op = Op.fromCode(b.get());
    String key = Bytes.getString(b);
    String contentType = Bytes.getString(b);
    byte[] valueSha = Bytes.getFixed(b, Hashes.SIZE);
    if (b.hasRemaining()) {
      throw new IllegalArgumentException(
          "canonical entry has " + b.remaining() + " trailing bytes");
    }
    return new CanonicalEntry(index, timestamp, op, key, contentType, valueSha);
  }

  public byte[] leafHash() {
    return Hashes.leafHash(encode());
  }
}
