package io.scribeledger.service;

import io.scribeledger.ledger.EntryRecord;

/**
 * A version of a key with its bytes ({@code null} for HEAD) and how far this node's ledger reaches.
 */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record ValueRead(EntryRecord record, byte[] value, long appliedIndex) {}
