package io.scribeledger.ledger;

/** A precondition on a write, checked where the entry is applied so every replica decides alike. */
public sealed interface Condition {

  /** No precondition. */
  record None() implements Condition {}

  /** {@code If-None-Match: *}: the key must have no live value. */
  record IfAbsent() implements Condition {}

  /** {@code If-Match: "<leafHash>"}: the key's latest version must have this leaf hash. */
  // Hashes and bytes: compared by content where it matters, never by record equality.
  @SuppressWarnings("ArrayRecordComponent")
  record IfMatch(byte[] leafHash) implements Condition {}

  Condition NONE = new None();
}
