package io.scribeledger.ledger;

/** Drops a member's record from the replicated state once it has left the Raft group. */
public record RemoveMember(String nodeId) implements Proposal {}
