package io.scribeledger.discovery;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The shared keys that authenticate discovery packets: the first is used to send, every one is
 * accepted, so keys rotate without downtime (add the new key second everywhere, then first, then
 * drop the old). Read from a file (a Kubernetes Secret) of lines {@code id:base64secret}; a secret
 * is at least 16 bytes and is never logged.
 */
public final class Keyring {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,32}");

  private final String sendId;
  private final Map<String, byte[]> keys;

  public Keyring(String sendId, Map<String, byte[]> keys) {
    if (!keys.containsKey(sendId)) {
      throw new IllegalArgumentException("the sending key " + sendId + " is not in the keyring");
    }
    this.sendId = sendId;
    this.keys = Map.copyOf(keys);
  }

  /** Reads a key file; IllegalArgumentException names the line that is wrong (never a secret). */
  public static Keyring load(Path file) throws IOException {
    Map<String, byte[]> keys = new LinkedHashMap<>();
    int n = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      n++;
      String t = line.strip();
      if (t.isEmpty() || t.startsWith("#")) {
        continue;
      }
      int colon = t.indexOf(':');
      String id = colon < 0 ? "" : t.substring(0, colon);
      if (!ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            file
                + " line "
                + n
                + ": expected id:base64secret with an id of 1-32 letters or digits");
      }
      byte[] secret;
      try {
        secret = Base64.getDecoder().decode(t.substring(colon + 1).strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(file + " line " + n + ": the secret is not base64");
      }
      if (secret.length < 16) {
        throw new IllegalArgumentException(file + " line " + n + ": a secret is at least 16 bytes");
      }
      if (keys.putIfAbsent(id, secret) != null) {
        throw new IllegalArgumentException(file + " line " + n + ": key id " + id + " twice");
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException(file + " holds no key");
    }
    return new Keyring(keys.keySet().iterator().next(), keys);
  }

  /** The id of the key packets are sent with. */
  public String sendId() {
    return sendId;
  }

  byte[] sendKey() {
    return keys.get(sendId);
  }

  Optional<byte[]> key(String id) {
    return Optional.ofNullable(keys.get(id));
  }
}
