package io.scribeledger.service;

import io.scribeledger.ledger.SegmentInfo;
import java.util.List;

/**
 * The sealed segments of the manifest, oldest first, with their archived copies and which of them
 * have their file on this node.
 */
public record SegmentList(
    List<SegmentInfo> segments,
    java.util.Map<Long, io.scribeledger.ledger.SegmentArchived> archived,
    java.util.Set<Long> onThisNode) {}
