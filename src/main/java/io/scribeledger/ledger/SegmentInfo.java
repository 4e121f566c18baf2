package io.scribeledger.ledger;

import io.scribeledger.merkle.Hashes;
import java.nio.ByteBuffer;

/**
 * A sealed segment in the replicated manifest: its range, Merkle root over its leaves, file size.
 */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record SegmentInfo(
    long id, long firstIndex, long lastIndex, byte[] merkleRoot, long sizeBytes, long createdAt) {

  /** Size of {@link #encode}'s output: five longs and the root. */
  public static final int BYTES = 8 * 5 + Hashes.SIZE;

  /** The fixed-size form kept in the manifest and in a snapshot's description. */
  public byte[] encode() {
    return ByteBuffer.allocate(BYTES)
        .putLong(id)
        .putLong(firstIndex)
        .putLong(lastIndex)
        .put(merkleRoot)
        .putLong(sizeBytes)
        .putLong(createdAt)
        .array();
  }

  /** Reads {@link #encode}'s form; fails on anything but {@link #BYTES} bytes. */
  public static SegmentInfo decode(byte[] raw) {
    if (raw.length != BYTES) {
      throw new IllegalArgumentException(
          "a segment description is " + BYTES + " bytes, not " + raw.length);
    }
    ByteBuffer b = ByteBuffer.wrap(raw);
    long id = b.getLong();
    long first = b.getLong();
    long last = b.getLong();
    byte[] root = Bytes.getFixed(b, Hashes.SIZE);
    return new SegmentInfo(id, first, last, root, b.getLong(), b.getLong());
  }

  public long leafCount() {
    return lastIndex - firstIndex + 1;
  }

  public boolean contains(long index) {
    return index >= firstIndex && index <= lastIndex;
  }
}
