package io.scribeledger.ledger;

/** Proof of a committed write, returned once the entry is committed and applied. */
@SuppressWarnings(
    "ArrayRecordComponent") // hashes and bytes, compared by content where it matters, never by
// record equality
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
