package io.scribeledger.service;

import io.scribeledger.ledger.EntryRecord;
import java.util.List;

/** Entries in ledger order, and the ledger size when they were read. */
public record EntriesPage(List<EntryRecord> entries, long treeSize) {}
