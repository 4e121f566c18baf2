package io.scribeledger.ledger;

/**
 * What travels in a Raft log entry: a client write, a segment seal, a segment's archived copy, a
 * member's address, or the leader's tree head for every replica to confirm.
 */
public sealed interface Proposal
    permits Command, Batch, SealSegment, SegmentArchived, RegisterMember, RemoveMember, HeadCheck {}
