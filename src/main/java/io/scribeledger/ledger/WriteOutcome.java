package io.scribeledger.ledger;

import io.scribeledger.error.ApiError;

/** What applying a command decided: an appended entry, or a refusal that appended nothing. */
public sealed interface WriteOutcome {

  /** The entry was appended. */
  record Applied(Receipt receipt) implements WriteOutcome {}

  /** What each write of a {@link Batch} decided, in order. */
  record Batched(java.util.List<WriteOutcome> outcomes) implements WriteOutcome {}

  /** A member's address was recorded. */
  record Registered() implements WriteOutcome {}

  /** The active segment was sealed into the manifest. */
  record Sealed(SegmentInfo segment) implements WriteOutcome {}

  /**
   * A segment's archived copy is in the manifest: {@code record} is the one kept, which is the
   * proposed one when {@code first}, or an earlier one when the segment was archived before.
   */
  record Archived(SegmentArchived record, boolean first) implements WriteOutcome {}

  /** This replica holds the tree head the leader proposed in a {@link HeadCheck}. */
  record HeadConfirmed() implements WriteOutcome {}

  /** Nothing was appended (failed precondition, delete of a missing key). */
  record Rejected(ApiError error) implements WriteOutcome {}
}
