package io.scribeledger.service;

import io.scribeledger.ledger.EntryRecord;
import java.util.List;

/** One page of a key's versions, oldest first; {@code more} tells whether later versions exist. */
public record HistoryPage(
    String key, List<EntryRecord> versions, boolean more, long appliedIndex) {}
