package io.scribeledger.http;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A request's query string, parsed strictly: malformed encoding, repeated or unknown parameters and
 * non-numeric numbers are {@code invalid_request}, so a typo never silently reads the wrong thing.
 */
public final class QueryParams {

  private final Map<String, String> values;

  private QueryParams(Map<String, String> values) {
    this.values = values;
  }

  public static QueryParams parse(String rawQuery, Set<String> allowed) {
    Map<String, String> values = new HashMap<>();
    if (rawQuery != null && !rawQuery.isEmpty()) {
      for (String pair : rawQuery.split("&", -1)) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String name =
            PathKeys.decode(eq < 0 ? pair : pair.substring(0, eq), true, ErrorCode.INVALID_REQUEST);
        String value =
            eq < 0 ? "" : PathKeys.decode(pair.substring(eq + 1), true, ErrorCode.INVALID_REQUEST);
        if (!allowed.contains(name)) {
          throw invalid(
              "unknown query parameter '"
                  + printable(name)
                  + "'"
                  + (allowed.isEmpty()
                      ? "; this route takes none"
                      : "; allowed: " + String.join(", ", allowed.stream().sorted().toList())));
        }
        if (values.put(name, value) != null) {
          throw invalid("query parameter '" + name + "' is given more than once");
        }
      }
    }
    return new QueryParams(values);
  }

  private static String printable(String s) {
    String cut = s.length() > 64 ? s.substring(0, 64) + "…" : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }

  private static RuntimeException invalid(String message) {
    return ApiError.of(ErrorCode.INVALID_REQUEST, message).exception();
  }

  public Optional<String> string(String name) {
    return Optional.ofNullable(values.get(name));
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  /** An integer parameter within [min, max]. */
  public Optional<Long> number(String name, long min, long max) {
    String raw = values.get(name);
    if (raw == null) {
      return Optional.empty();
    }
    long v;
    try {
      if (!raw.matches("\\d{1,19}")) {
        throw new NumberFormatException();
      }
      v = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw invalid(
          "query parameter '" + name + "' must be a whole number, got '" + printable(raw) + "'");
    }
    if (v < min || v > max) {
      throw invalid(
          "query parameter '" + name + "' must be between " + min + " and " + max + ", got " + v);
    }
    return Optional.of(v);
  }
}
