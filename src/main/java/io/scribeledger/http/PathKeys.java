package io.scribeledger.http;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.ledger.KeyRules;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** Strict percent-decoding of URL parts and the key rules of API.md. */
public final class PathKeys {

  /**
   * First path segments that belong to node routes; such keys are only reachable under {@code
   * /kv/}.
   */
  public static final Set<String> RESERVED =
      Set.of(
          "health",
          "metrics",
          "cluster",
          "verify",
          "history",
          "ledger",
          "segments",
          "kv",
          "admin",
          "ui");

  private PathKeys() {}

  /** Decodes one raw path segment into a key, or throws {@code invalid_key}. */
  public static String key(String rawSegment, int maxKeyBytes) {
    if (rawSegment.indexOf('/') >= 0) {
      throw invalidKey("a key is one path segment; encode '/' as %2F");
    }
    String key = decode(rawSegment, false, ErrorCode.INVALID_KEY);
    KeyRules.problem(key, maxKeyBytes)
        .ifPresent(
            p -> {
              throw invalidKey(p);
            });
    return key;
  }

  private static RuntimeException invalidKey(String message) {
    return ApiError.of(ErrorCode.INVALID_KEY, message).exception();
  }

  /** Percent-decodes as UTF-8, rejecting malformed escapes and invalid UTF-8 with {@code code}. */
  public static String decode(String raw, boolean plusIsSpace, ErrorCode code) {
    if (raw.indexOf('%') < 0 && !(plusIsSpace && raw.indexOf('+') >= 0)) {
      return raw;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()
            || Character.digit(raw.charAt(i + 1), 16) < 0
            || Character.digit(raw.charAt(i + 2), 16) < 0) {
          throw ApiError.of(code, "malformed percent-encoding at position " + i).exception();
        }
        out.write(
            Character.digit(raw.charAt(i + 1), 16) * 16 + Character.digit(raw.charAt(i + 2), 16));
        i += 2;
      } else if (c == '+' && plusIsSpace) {
        out.write(' ');
      } else {
        byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(out.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw ApiError.of(code, "percent-encoded bytes are not valid UTF-8").exception();
    }
  }
}
