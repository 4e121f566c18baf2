package io.scribeledger.service;

import java.util.List;

/** RFC 9162 consistency proof between the trees of {@code first} and {@code second} entries. */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record ConsistencyProof(
    long first, long second, byte[] firstRoot, byte[] secondRoot, List<byte[]> proof) {}
