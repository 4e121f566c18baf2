package io.scribeledger.ledger;

import java.util.List;

/**
 * Concurrent client writes packed into one Raft entry (group commit); each is decided on its own.
 */
public record Batch(List<Command> commands) implements Proposal {}
