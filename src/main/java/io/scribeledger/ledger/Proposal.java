package io.scribeledger.ledger;

/**
 * What travels in a Raft log entry: a client write, a segment seal, a segment's archived copy, or a
 * member's address.
 */
public sealed interface Proposal
    permits Command, Batch, SealSegment, SegmentArchived, RegisterMember, RemoveMember {}
