package io.scribeledger.ledger;

/**
 * Records a member's HTTP address and tree-head signing key (base64 X.509 SubjectPublicKeyInfo,
 * empty when not known) in the replicated state, so every node can name it and list its key in
 * /cluster/members.
 */
public record RegisterMember(String nodeId, String httpAddress, String publicKey)
    implements Proposal {}
