package io.scribeledger.consensus;

/**
 * Where this node's Raft division stands: role, term, the leader it knows (or null), its commit and
 * applied index, and the leader's commit index as last heard from the leader (-1 when not known: no
 * leader, or nothing heard from it since this node started).
 */
public record RaftProgress(
    String role,
    long term,
    String leaderId,
    long commitIndex,
    long appliedIndex,
    long leaderCommitIndex) {}
