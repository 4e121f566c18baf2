package io.scribeledger.ledger;

/** What travels in a Raft log entry: a client write, a segment seal, or a member's address. */
public sealed interface Proposal
    permits Command, Batch, SealSegment, RegisterMember, RemoveMember {}
