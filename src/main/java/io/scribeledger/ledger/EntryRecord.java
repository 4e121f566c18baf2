package io.scribeledger.ledger;

import io.scribeledger.storage.ValueLocation;

/** Everything the index keeps about one ledger entry; the value itself lives in a segment file. */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record EntryRecord(
    long index,
    long timestamp,
    Op op,
    String key,
    long version,
    String contentType,
    long size,
    byte[] valueSha256,
    byte[] leafHash,
    ValueLocation location) {}
