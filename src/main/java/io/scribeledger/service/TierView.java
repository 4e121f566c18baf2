package io.scribeledger.service;

import io.scribeledger.ledger.LedgerState;
import io.scribeledger.ledger.SegmentArchived;
import io.scribeledger.ledger.SegmentInfo;
import io.scribeledger.storage.SegmentStore;
import java.util.List;
import java.util.SortedMap;

/**
 * One look at what tiering needs from the ledger: the sealed segments, the archived copies the
 * committed manifest holds, the sealed files on this node's disk, and whether this node leads.
 */
public record TierView(
    boolean leader,
    List<SegmentInfo> sealed,
    SortedMap<Long, SegmentArchived> archived,
    List<SegmentStore.LocalSegment> local,
    long treeSize) {

  /** Reads it from {@code state}. Blocking. */
  static TierView of(LedgerState state, boolean leader) {
    return new TierView(
        leader,
        state.segments(),
        state.archivedSegments(),
        state.localSealedSegments(),
        state.size());
  }
}
