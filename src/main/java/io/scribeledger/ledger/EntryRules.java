package io.scribeledger.ledger;

import java.util.Optional;

/**
 * The limits every replica holds every entry to, whatever its own configuration says. Admission
 * uses a node's configured limits, which can only be lower; apply checks these fixed ones, so an
 * entry that reached the log through any door (another node's HTTP, a raw Raft proposal) is
 * accepted or refused alike everywhere, and the Raft transport of every node is sized to carry any
 * entry a leader can admit: no configuration drift can block the log.
 */
public final class EntryRules {

  /** The largest value any node may admit ({@code limits.maxValueBytes} is at most this). */
  public static final long MAX_VALUE_BYTES = 32L * 1024 * 1024;

  /** The longest content type any node may admit ({@code limits.maxContentTypeBytes}). */
  public static final int MAX_CONTENT_TYPE_BYTES = 1024;

  private EntryRules() {}

  /** What is wrong with a command by the fixed rules, or empty when every replica may apply it. */
  public static Optional<String> problem(Command command) {
    Optional<String> key = KeyRules.problem(command.key(), KeyRules.MAX_KEY_BYTES);
    if (key.isPresent() || !(command instanceof Command.Put put)) {
      return key;
    }
    if (put.value().length > MAX_VALUE_BYTES) {
      return Optional.of(
          "value is " + put.value().length + " bytes, above the cluster's " + MAX_VALUE_BYTES);
    }
    return contentTypeProblem(put.contentType(), MAX_CONTENT_TYPE_BYTES);
  }

  /** Printable ASCII of at most {@code maxBytes}: no CR/LF can reach a response header. */
  public static Optional<String> contentTypeProblem(String contentType, int maxBytes) {
    if (contentType.length() > maxBytes
        || !contentType.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
      return Optional.of(
          "Content-Type must be printable ASCII of at most " + maxBytes + " characters");
    }
    return Optional.empty();
  }
}
