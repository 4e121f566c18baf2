package io.scribeledger.ledger;

/** A sealed segment in the replicated manifest: its range, Merkle root over its leaves, file size. */
public record SegmentInfo(long id, long firstIndex, long lastIndex, byte[] merkleRoot, long sizeBytes, long createdAt) {

  public long leafCount() {
    return lastIndex - firstIndex + 1;
  }

  public boolean contains(long index) {
    return index >= firstIndex && index <= lastIndex;
  }
}
