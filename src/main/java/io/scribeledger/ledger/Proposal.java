package io.scribeledger.ledger;

/** What travels in a Raft log entry: a client write, or a segment seal the leader decided on. */
public sealed interface Proposal permits Command, SealSegment {
}
