package io.scribeledger.auth;

import java.util.Locale;
import java.util.Optional;

/**
 * What a token may do; each role includes the ones before it (an admin may write, a writer read).
 */
public enum Role {
  /** Reads values, histories and proofs; sees cluster status and metrics. */
  READER,
  /** Also writes and deletes keys. */
  WRITER,
  /** Also changes membership and runs the integrity scrub. */
  ADMIN;

  /** Whether this role grants what {@code needed} grants. */
  public boolean includes(Role needed) {
    return compareTo(needed) >= 0;
  }

  /** The role's name as configuration and audit lines spell it. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The role named {@code label} ({@code reader}, {@code writer}, {@code admin}). */
  public static Optional<Role> parse(String label) {
    for (Role r : values()) {
      if (r.label().equals(label)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }
}
