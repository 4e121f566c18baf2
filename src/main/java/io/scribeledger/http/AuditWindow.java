package io.scribeledger.http;

import java.util.Map;

/**
 * Lets one audit line per caller through per window and counts the rest, for refusals anyone can
 * cause without a token. One per HTTP verticle (its event loop only); bounded like the rate
 * buckets, so a flood of callers cannot grow it.
 */
final class AuditWindow {

  static final long WINDOW_NANOS = 10_000_000_000L;
  private static final int MAX_CALLERS = 4096;

  /** When this caller's window started, and how many of its lines were held back in it. */
  private static final class Seen {
    long start;
    long held;
  }

  private final Map<String, Seen> seen = new LruMap<>(MAX_CALLERS);

  /**
   * -1 when this line is held back; else how many were held back in the caller's previous window (0
   * for a new caller), and a new window starts.
   */
  long admit(String caller) {
    long now = System.nanoTime();
    Seen s = seen.get(caller);
    if (s == null) {
      s = new Seen();
      s.start = now;
      seen.put(caller, s);
      return 0;
    }
    if (now - s.start < WINDOW_NANOS) {
      s.held++;
      return -1;
    }
    long held = s.held;
    s.start = now;
    s.held = 0;
    return held;
  }
}
