package io.scribeledger.ledger;

import io.scribeledger.merkle.Hashes;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A sealed segment's one archived copy in the object store, as the leader proposes it once the
 * object is fully written and its checksum confirmed: the object key, the SHA-256 and size of the
 * stored object, and how it is compressed. Apply keeps the first record per segment.
 */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record SegmentArchived(
    long segmentId, String objectKey, byte[] objectSha256, long objectSize, String codec)
    implements Proposal {

  /** The compressions an archived object may have: gzip (JDK) or none. */
  public static final java.util.Set<String> CODECS = java.util.Set.of("gzip", "none");

  /** Longest object key a record may carry (S3's own limit). */
  public static final int MAX_KEY_BYTES = 1024;

  private static final Pattern KEY = Pattern.compile("[A-Za-z0-9/._-]{1,1024}");

  /** The binary form (manifest value, log entry body, snapshot description). */
  public byte[] encode() {
    byte[] key = Bytes.utf8(objectKey);
    byte[] c = Bytes.utf8(codec);
    ByteBuffer b =
        ByteBuffer.allocate(
                8 + Bytes.sizeOf(objectSha256) + 8 + Bytes.sizeOf(key) + Bytes.sizeOf(c))
            .putLong(segmentId);
    Bytes.put(b, objectSha256);
    b.putLong(objectSize);
    Bytes.put(b, key);
    Bytes.put(b, c);
    return b.array();
  }

  /** Reads {@link #encode}'s form; IllegalArgumentException when malformed. */
  public static SegmentArchived decode(ByteBuffer b) {
    try {
      long id = b.getLong();
      byte[] sha = Bytes.get(b);
      long size = b.getLong();
      return new SegmentArchived(id, Bytes.getString(b), sha, size, Bytes.getString(b));
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated archive record", e);
    }
  }

  /**
   * What is wrong with this record as every replica judges it alike (apply refuses it then), or
   * empty.
   */
  public Optional<String> problem() {
    if (objectSha256.length != Hashes.SIZE) {
      return Optional.of("an archive record's SHA-256 is " + Hashes.SIZE + " bytes");
    }
    if (objectSize <= 0) {
      return Optional.of("an archived object has at least one byte");
    }
    if (!CODECS.contains(codec)) {
      return Optional.of("unknown archive codec '" + codec + "' (known: gzip, none)");
    }
    if (!KEY.matcher(objectKey).matches()) {
      return Optional.of("an object key is 1-1024 characters of letters, digits and / . _ -");
    }
    return Optional.empty();
  }
}
