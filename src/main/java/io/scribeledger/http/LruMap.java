package io.scribeledger.http;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A map that keeps at most {@code max} entries, dropping the least recently used first: per-caller
 * state that a flood of callers must not grow without bound. Not thread-safe.
 */
final class LruMap<K, V> extends LinkedHashMap<K, V> {

  private static final long serialVersionUID = 1L;

  private final int max;

  LruMap(int max) {
    super(Math.min(max, 1024), 0.75f, true);
    this.max = max;
  }

  @Override
  protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
    return size() > max;
  }
}
