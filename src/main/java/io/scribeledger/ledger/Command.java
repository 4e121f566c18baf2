package io.scribeledger.ledger;

/** A client write, as proposed through Raft: the closed set of entry operations. */
public sealed interface Command extends Proposal {

  String key();

  Condition condition();

  /** Bytes of the value this command stores (0 for a tombstone). */
  default long valueBytes() {
    return this instanceof Put put ? put.value().length : 0;
  }

  /** Append a new version of {@code key} holding {@code value}. */
  // Hashes and bytes: compared by content where it matters, never by record equality.
  @SuppressWarnings("ArrayRecordComponent")
  record Put(String key, String contentType, byte[] value, Condition condition)
      implements Command {}

  /** Append a tombstone for {@code key}; refused when it has no live value. */
  record Delete(String key, Condition condition) implements Command {}
}
