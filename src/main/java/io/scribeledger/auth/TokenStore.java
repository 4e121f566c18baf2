package io.scribeledger.auth;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The API tokens a node accepts, read from a JSON file that holds only their SHA-256 digests.
 *
 * <p>Tokens are 32 random bytes, so a plain digest is as strong as a slow password hash here and
 * costs one hash per request. A presented token is hashed, the digest looked up, and the stored
 * digest compared once more in constant time.
 */
public final class TokenStore {

  /** Every token {@link #newToken()} makes starts with this, so a leaked one is easy to grep. */
  public static final String TOKEN_PREFIX = "scribe_";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.@-]{1,64}");
  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");
  private static final int MAX_FILE_BYTES = 4 << 20;

  private final Map<String, Entry> byDigest;

  /** A stored token: its digest and what it grants. */
  private static final class Entry {
    private final byte[] digest;
    private final Principal principal;

    Entry(byte[] digest, Principal principal) {
      this.digest = digest.clone();
      this.principal = principal;
    }
  }

  private TokenStore(Map<String, Entry> byDigest) {
    this.byDigest = Map.copyOf(byDigest);
  }

  /** How many tokens this store accepts. */
  public int size() {
    return byDigest.size();
  }

  /**
   * Reads {@code {"tokens":[{"name","sha256","role","prefixes"?}]}}; anything malformed is refused
   * with a message naming the entry (never a digest).
   */
  public static TokenStore load(Path file) throws IOException {
    if (Files.size(file) > MAX_FILE_BYTES) {
      throw new IllegalArgumentException(file + " is larger than " + MAX_FILE_BYTES + " bytes");
    }
    JsonObject root;
    try {
      root = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
    } catch (DecodeException e) {
      throw new IllegalArgumentException(file + " is not a JSON object", e);
    }
    if (!(root.getValue("tokens") instanceof JsonArray tokens)) {
      throw new IllegalArgumentException(file + ": needs a \"tokens\" array");
    }
    Map<String, Entry> byDigest = new LinkedHashMap<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < tokens.size(); i++) {
      String where = file + ": tokens[" + i + "]";
      if (!(tokens.getValue(i) instanceof JsonObject t)) {
        throw new IllegalArgumentException(where + " must be an object");
      }
      Principal p = principal(t, where);
      if (names.contains(p.name())) {
        throw new IllegalArgumentException(where + ": duplicate name " + p.name());
      }
      names.add(p.name());
      String digest = t.getValue("sha256") instanceof String s ? s : "";
      if (!DIGEST.matcher(digest).matches()) {
        throw new IllegalArgumentException(
            where + ".sha256 must be 64 lower-case hex digits (the token's SHA-256)");
      }
      if (byDigest.put(digest, new Entry(HexFormat.of().parseHex(digest), p)) != null) {
        throw new IllegalArgumentException(where + ": the same token is listed twice");
      }
    }
    return new TokenStore(byDigest);
  }

  /** Why {@code entry} would be refused in a tokens file, or null when it is a valid entry. */
  public static String problem(JsonObject entry) {
    try {
      principal(entry, "token");
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  private static Principal principal(JsonObject t, String where) {
    String name = t.getValue("name") instanceof String s ? s : "";
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          where + ".name must be 1-64 characters of letters, digits, '_', '.', '@' or '-'");
    }
    Role role =
        Role.parse(t.getValue("role") instanceof String s ? s : "")
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        where + ".role must be one of reader, writer, admin"));
    List<String> prefixes = new ArrayList<>();
    Object raw = t.getValue("prefixes");
    if (raw != null) {
      if (!(raw instanceof JsonArray array)) {
        throw new IllegalArgumentException(where + ".prefixes must be an array of strings");
      }
      for (Object o : array) {
        if (!(o instanceof String s) || s.isEmpty()) {
          throw new IllegalArgumentException(where + ".prefixes must hold non-empty strings");
        }
        prefixes.add(s);
      }
      if (prefixes.isEmpty()) {
        throw new IllegalArgumentException(
            where + ".prefixes is empty: leave it out to grant every key");
      }
    }
    if (role == Role.ADMIN && !prefixes.isEmpty()) {
      throw new IllegalArgumentException(where + ": an admin token cannot be limited to prefixes");
    }
    return new Principal(name, role, prefixes);
  }

  /** The caller a presented bearer token stands for, if it is one of ours. */
  public Optional<Principal> authenticate(String token) {
    byte[] digest = sha256(token);
    Entry e = byDigest.get(HexFormat.of().formatHex(digest));
    return e != null && MessageDigest.isEqual(e.digest, digest)
        ? Optional.of(e.principal)
        : Optional.empty();
  }

  /** A new random token: {@value #TOKEN_PREFIX} and 32 random bytes, base64url. */
  public static String newToken() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return TOKEN_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The hex SHA-256 of a token, as the tokens file stores it. */
  public static String digestHex(String token) {
    return HexFormat.of().formatHex(sha256(token));
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }
}
