package io.scribeledger.service;

import io.scribeledger.ledger.Command;
import java.util.function.BooleanSupplier;

/** What the HTTP verticles ask the ledger verticle over the event bus. */
public sealed interface LedgerRequest {

  /** Propose a write; replies with a {@link io.scribeledger.ledger.WriteOutcome}. */
  record Write(Command command, BooleanSupplier clientGone) implements LedgerRequest {}

  /** Read one version of a key; replies with a {@link ValueRead}. */
  record Get(String key, Selector selector, ReadMode mode, boolean withValue)
      implements LedgerRequest {}

  /** Page through a key's versions; replies with a {@link HistoryPage}. */
  record History(String key, long afterVersion, int limit, ReadMode mode)
      implements LedgerRequest {}

  /** This node's Raft view; replies with a {@link io.scribeledger.consensus.NodeStatus}. */
  record Status() implements LedgerRequest {}

  /**
   * Whether this node can take traffic now: its status, and a linearizable read barrier served
   * within a second; replies with a {@link Readiness}.
   */
  record Ready() implements LedgerRequest {}

  /**
   * Liveness: the ledger verticle answers (its node id) without touching the ledger state, so a
   * long restore holding the state's lock never makes a live node look dead.
   */
  record Live() implements LedgerRequest {}

  /** The signed tree head; replies with a {@link io.scribeledger.verify.TreeHead}. */
  record Head() implements LedgerRequest {}

  /** A version of a key with its inclusion proof; replies with a {@link Proof}. */
  record Prove(String key, Selector selector) implements LedgerRequest {}

  /** A consistency proof between two tree sizes; replies with a {@link ConsistencyProof}. */
  record Consistency(long first, long second) implements LedgerRequest {}

  /** Entries in index order; replies with an {@link EntriesPage}. */
  record Entries(long from, int limit) implements LedgerRequest {}

  /** The sealed-segment manifest; replies with a {@link SegmentList}. */
  record Segments() implements LedgerRequest {}

  /**
   * Add a node: as a listener first, promoted to voter once caught up; replies with a NodeStatus.
   */
  record Join(String nodeId, String raftAddress, String httpAddress) implements LedgerRequest {}

  /** Remove a node (leadership moves first if it leads); replies with a NodeStatus. */
  record Leave(String nodeId) implements LedgerRequest {}

  /**
   * Recompute sealed segments from their files; replies with an {@link
   * io.scribeledger.ledger.IntegrityScrub.Report}.
   */
  record Scrub() implements LedgerRequest {}

  /**
   * What the tiering verticle works from: the sealed segments, their archived copies, the files on
   * this node, and whether it leads (after a read barrier, so the manifest is current); replies
   * with a {@link TierView}.
   */
  record Tiering() implements LedgerRequest {}

  /**
   * Records a segment's archived copy through Raft; replies with the {@link
   * io.scribeledger.ledger.WriteOutcome} (the record kept).
   */
  record Archive(io.scribeledger.ledger.SegmentArchived record) implements LedgerRequest {}

  /**
   * A tree head over the first {@code size} entries, signed now; replies with a {@link
   * io.scribeledger.verify.TreeHead}.
   */
  record SignedHead(long size) implements LedgerRequest {}

  /**
   * Remove an archived segment's file from this node; replies true, or false when reads held it
   * (tried again later).
   */
  record Evict(long segmentId) implements LedgerRequest {}

  /** Which version of a key a read wants. */
  sealed interface Selector {
    /** The latest version. */
    record Latest() implements Selector {}

    /** Version N of the key. */
    record Version(long version) implements Selector {}

    /** The key as it stood at ledger index N. */
    record At(long index) implements Selector {}
  }

  /** How fresh a read must be (API.md, GET details). */
  sealed interface ReadMode {
    /** Reflects every write acknowledged before the read started. */
    record Linearizable() implements ReadMode {}

    /** This node's copy, no coordination. */
    record Stale() implements ReadMode {}

    /** This node's copy once it has applied the given ledger index. */
    record MinIndex(long index) implements ReadMode {}
  }
}
