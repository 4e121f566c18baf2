package io.scribeledger.ledger;

/** A proposal with the timestamp the leader chose for it, as it travels in the Raft log. */
public record StampedCommand(long timestamp, Proposal proposal) {}
