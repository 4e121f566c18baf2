package io.scribeledger.consensus;

/**
 * Where this node's Raft division stands: role, term, the leader it knows (or null), commit and
 * applied index.
 */
public record RaftProgress(
    String role, long term, String leaderId, long commitIndex, long appliedIndex) {}
