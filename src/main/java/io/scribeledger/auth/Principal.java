package io.scribeledger.auth;

import java.util.List;

/**
 * Who is calling: a token's name, its role and the key prefixes it is limited to (empty: every
 * key).
 */
public record Principal(String name, Role role, List<String> prefixes) {

  /** The caller of a node that runs open (no tokens configured): may do everything. */
  public static final Principal OPEN = new Principal("anonymous", Role.ADMIN, List.of());

  public Principal {
    prefixes = List.copyOf(prefixes);
  }

  /** Whether this caller may use a route that needs {@code needed} and touches no single key. */
  public boolean may(Role needed) {
    return role.includes(needed);
  }

  /**
   * Whether this caller may read the whole ledger (every key's entries): a prefix-limited token may
   * not.
   */
  public boolean mayReadAll() {
    return role.includes(Role.READER) && prefixes.isEmpty();
  }

  /** Whether this caller may do what {@code needed} grants to {@code key}. */
  public boolean may(Role needed, String key) {
    return role.includes(needed)
        && (prefixes.isEmpty() || prefixes.stream().anyMatch(key::startsWith));
  }
}
