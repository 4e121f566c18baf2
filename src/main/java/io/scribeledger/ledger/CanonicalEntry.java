package io.scribeledger.ledger;

import io.scribeledger.merkle.Hashes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The canonical byte form of an entry (API.md, "Data model") and its Merkle leaf hash. Pure: a
 * client rebuilds the leaf hash from the fields a receipt or {@code /history} gives it.
 */
public record CanonicalEntry(long index, long timestamp, Op op, String key, String contentType, byte[] valueSha256) {

  public static final byte FORMAT_VERSION = 0x01;

  public byte[] encode() {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    byte[] ct = (op == Op.DELETE ? "" : contentType).getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 1 + 4 + k.length + 4 + ct.length + Hashes.SIZE);
    b.put(FORMAT_VERSION).putLong(index).putLong(timestamp).put((byte) op.code())
        .putInt(k.length).put(k).putInt(ct.length).put(ct).put(valueSha256);
    return b.array();
  }

  public byte[] leafHash() {
    return Hashes.leafHash(encode());
  }
}
