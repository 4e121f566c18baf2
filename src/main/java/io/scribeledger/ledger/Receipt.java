package io.scribeledger.ledger;

/** Proof of a committed write, returned once the entry is committed and applied. */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record Receipt(
    String key,
    Op op,
    long version,
    long index,
    long timestamp,
    byte[] valueSha256,
    byte[] leafHash,
    long treeSize,
    byte[] rootHash) {}
