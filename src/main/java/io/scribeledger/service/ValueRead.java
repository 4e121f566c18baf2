package io.scribeledger.service;

import io.scribeledger.ledger.EntryRecord;

/** A version of a key, its bytes as {@link ValueBody}, and how far this node's ledger reaches. */
public record ValueRead(EntryRecord record, ValueBody body, long appliedIndex) {}
