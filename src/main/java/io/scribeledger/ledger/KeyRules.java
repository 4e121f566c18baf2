package io.scribeledger.ledger;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** API.md's key rule: UTF-8, 1..1024 bytes (or a lower configured limit), no control characters. */
public final class KeyRules {

  public static final int MAX_KEY_BYTES = 1024;

  private KeyRules() {}

  /** What is wrong with {@code key}, or empty when it is a valid key. */
  public static Optional<String> problem(String key, int maxKeyBytes) {
    if (key.isEmpty()) {
      return Optional.of("key must not be empty");
    }
    int bytes = key.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > maxKeyBytes) {
      return Optional.of("key is " + bytes + " bytes, the limit is " + maxKeyBytes);
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        return Optional.of(
            String.format("key contains control character U+%04X at position %d", (int) c, i));
      }
      if (Character.isSurrogate(c)
          && !(Character.isHighSurrogate(c)
              && i + 1 < key.length()
              && Character.isLowSurrogate(key.charAt(++i)))) {
        return Optional.of("key is not valid UTF-8");
      }
    }
    return Optional.empty();
  }
}
