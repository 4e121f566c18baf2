package io.scribeledger.http;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.scribeledger.config.NodeConfig;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Per-caller token buckets (Bucket4j) for requests and request bytes, shared by every HTTP verticle
 * instance. A caller is a token's name, or a client address when it sends none. The buckets of at
 * most {@link #MAX_CALLERS} callers are kept (least recently seen dropped first), so a flood of
 * addresses cannot grow the heap; a dropped caller starts again with a full bucket.
 */
public final class RateLimits {

  static final int MAX_CALLERS = 65_536;

  private final NodeConfig.RateLimit config;
  private final long byteCapacity;
  private final Map<String, Buckets> callers = new LruMap<>(MAX_CALLERS);

  /** A caller's two buckets; either may be null when its rate is off. */
  private record Buckets(Bucket requests, Bucket bytes) {}

  /**
   * Limits per {@code config}; the byte bucket holds at least one largest value, so a single upload
   * of {@code maxValueBytes} is never refused for its size alone.
   */
  public RateLimits(NodeConfig.RateLimit config, long maxValueBytes) {
    this.config = config;
    this.byteCapacity = Math.max(config.bytesPerSecond(), maxValueBytes + 64 * 1024);
  }

  boolean enabled() {
    return config.enabled();
  }

  /**
   * Takes one request and {@code bytes} of body from {@code caller}'s buckets; empty when it may go
   * on, else how many seconds to wait (at least 1). Nothing is taken when it is refused.
   */
  OptionalLong admit(String caller, long bytes) {
    Buckets b;
    synchronized (callers) {
      b = callers.computeIfAbsent(caller, c -> newBuckets());
    }
    if (b.requests() != null) {
      ConsumptionProbe p = b.requests().tryConsumeAndReturnRemaining(1);
      if (!p.isConsumed()) {
        return OptionalLong.of(seconds(p.getNanosToWaitForRefill()));
      }
    }
    if (b.bytes() != null && bytes > 0) {
      ConsumptionProbe p = b.bytes().tryConsumeAndReturnRemaining(Math.min(bytes, byteCapacity));
      if (!p.isConsumed()) {
        if (b.requests() != null) {
          b.requests().addTokens(1); // the request was refused: it does not count
        }
        return OptionalLong.of(seconds(p.getNanosToWaitForRefill()));
      }
    }
    return OptionalLong.empty();
  }

  private Buckets newBuckets() {
    return new Buckets(
        bucket(config.burstRequests(), config.requestsPerSecond()),
        bucket(byteCapacity, config.bytesPerSecond()));
  }

  /** A bucket holding {@code capacity}, refilled at {@code perSecond}; null when the rate is 0. */
  private static Bucket bucket(long capacity, long perSecond) {
    return perSecond == 0
        ? null
        : Bucket.builder()
            .addLimit(l -> l.capacity(capacity).refillGreedy(perSecond, Duration.ofSeconds(1)))
            .build();
  }

  private static long seconds(long nanos) {
    return Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
  }
}
