package io.scribeledger.service;

import io.scribeledger.ledger.SegmentInfo;
import java.util.List;

/** The sealed segments of the manifest, oldest first. */
public record SegmentList(List<SegmentInfo> segments) {}
