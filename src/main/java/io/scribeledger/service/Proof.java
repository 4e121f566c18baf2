package io.scribeledger.service;

import io.scribeledger.ledger.EntryRecord;
import io.scribeledger.ledger.SegmentInfo;
import io.scribeledger.verify.TreeHead;
import java.util.List;

/** An entry, its audit path in the signed tree, and (when sealed) its audit path in its segment. */
public record Proof(
    EntryRecord entry,
    List<byte[]> auditPath,
    TreeHead head,
    SegmentInfo segment,
    List<byte[]> segmentPath) {}
