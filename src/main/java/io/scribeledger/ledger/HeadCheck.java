package io.scribeledger.ledger;

import io.scribeledger.merkle.Hashes;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * The leader's tree head where it admits this entry: every replica that applies it must hold the
 * same tree at that size, or it stops instead of going on with another history. Catches a member
 * that received the log without the entries before it (a group restored from an archive) and a
 * replay that decided an entry differently from the first time. Whoever proposes one, the leader
 * writes its own applied head into it ({@code LedgerStateMachine.startTransaction}), so no proposer
 * can put a head into the log that the group does not have.
 */
// The root is compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record HeadCheck(long size, byte[] root) implements Proposal {

  /** Refuses a negative size or a root that is not a SHA-256. */
  public HeadCheck {
    if (size < 0) {
      throw new IllegalArgumentException("a head check's tree size is not negative");
    }
    if (root.length != Hashes.SIZE) {
      throw new IllegalArgumentException("a head check's root is " + Hashes.SIZE + " bytes");
    }
  }

  /** What a proposer sends: the empty head, which the leader replaces with its own. */
  public static HeadCheck toFill() {
    return new HeadCheck(0, Hashes.emptyRoot());
  }

  /** The binary form (log entry body): size, then root. */
  public byte[] encode() {
    return ByteBuffer.allocate(8 + Hashes.SIZE).putLong(size).put(root).array();
  }

  /** Reads {@link #encode}'s form; IllegalArgumentException when malformed. */
  public static HeadCheck decode(ByteBuffer b) {
    try {
      return new HeadCheck(b.getLong(), Bytes.getFixed(b, Hashes.SIZE));
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated head check", e);
    }
  }
}
