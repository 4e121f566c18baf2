package io.scribeledger.ledger;

import java.util.Base64;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a member record may hold, checked at apply (a record arrives through Raft, not only from
 * this node's own code): a node id, a {@code host:port} address, and an optional base64 key.
 */
public final class MemberRules {

  private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
  private static final Pattern HOST_PORT =
      Pattern.compile("[A-Za-z0-9_.:\\[\\]-]{1,255}:[0-9]{1,5}");
  private static final int MAX_KEY_CHARS = 1024;

  private MemberRules() {}

  /** Why {@code m} cannot be recorded, or empty when it can. */
  public static Optional<String> problem(RegisterMember m) {
    if (!NODE_ID.matcher(m.nodeId()).matches()) {
      return Optional.of("a member id is 1-64 letters, digits, '.', '_' or '-'");
    }
    if (!isHttpAddress(m.httpAddress())) {
      return Optional.of("a member's HTTP address is host:port");
    }
    if (m.publicKey().length() > MAX_KEY_CHARS) {
      return Optional.of("a member's key is at most " + MAX_KEY_CHARS + " characters of base64");
    }
    if (!isBase64(m.publicKey())) {
      return Optional.of("a member's key is base64");
    }
    return Optional.empty();
  }

  /** Whether {@code httpAddress} is one a member record may hold ({@code host:port}). */
  public static boolean isHttpAddress(String httpAddress) {
    return httpAddress != null && HOST_PORT.matcher(httpAddress).matches();
  }

  static boolean isBase64(String s) {
    try {
      Base64.getDecoder().decode(s);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
