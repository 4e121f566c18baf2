package io.scribeledger.ledger;

/**
 * Records a member's HTTP address in the replicated state, so every node can name it in
 * /cluster/members.
 */
public record RegisterMember(String nodeId, String httpAddress) implements Proposal {}
