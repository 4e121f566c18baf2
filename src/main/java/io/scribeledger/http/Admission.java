package io.scribeledger.http;

import com.sun.management.UnixOperatingSystemMXBean;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.scribeledger.config.NodeConfig;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the node lets in at once, shared by every HTTP verticle instance: open connections, and
 * bytes in flight (request bodies being received, plus writes waiting for their outcome). Beyond
 * either cap a request is answered 429 {@code overloaded} instead of growing the heap.
 */
public final class Admission {

  private static final Logger LOG = LoggerFactory.getLogger(Admission.class);

  private final int maxConnections;
  private final long maxBytes;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();

  /** File descriptors kept for the node's own files, Raft connections and snapshots. */
  static final long RESERVED_DESCRIPTORS = 1024;

  public Admission(NodeConfig.Http http) {
    this.maxConnections = connectionCap(http.maxConnections(), openFileLimit());
    this.maxBytes = http.maxInFlightBytes();
  }

  /**
   * The configured cap, lowered to leave {@link #RESERVED_DESCRIPTORS} of the process's file
   * descriptor limit to the node itself (with a WARN line saying so).
   */
  static int connectionCap(int configured, long fileLimit) {
    if (fileLimit <= 0 || configured <= fileLimit - RESERVED_DESCRIPTORS) {
      return configured;
    }
    // Never above what was configured: a low file limit only ever lowers the cap.
    int capped = (int) Math.min(configured, Math.max(16, fileLimit - RESERVED_DESCRIPTORS));
    LOG.warn(
        "http.maxConnections {} would leave too few of the process's {} file descriptors to the"
            + " node itself; {} connections at most (raise the limit: ulimit -n)",
        configured,
        fileLimit,
        capped);
    return capped;
  }

  private static long openFileLimit() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
        ? unix.getMaxFileDescriptorCount()
        : -1;
  }

  /** Counts a new connection; false when it is one too many (it is not counted then). */
  boolean connect() {
    if (connections.incrementAndGet() > maxConnections) {
      connections.decrementAndGet();
      return false;
    }
    return true;
  }

  void disconnect() {
    connections.decrementAndGet();
  }

  /** Reserves {@code n} bytes; false (nothing reserved) when that would pass the cap. */
  boolean reserve(long n) {
    long now;
    do {
      now = bytes.get();
      if (now + n > maxBytes && now > 0) {
        return false; // one request larger than the cap still gets in when nothing else is
      }
    } while (!bytes.compareAndSet(now, now + n));
    return true;
  }

  void release(long n) {
    bytes.addAndGet(-n);
  }

  /** Bytes reserved now (for metrics and tests). */
  public long bytesInFlight() {
    return bytes.get();
  }

  public int connections() {
    return connections.get();
  }

  /** {@code scribe_http_connections} and {@code scribe_http_in_flight_bytes}. */
  public void registerGauges(MeterRegistry registry, String nodeId) {
    Gauge.builder("scribe.http.connections", connections, AtomicInteger::get)
        .description("open HTTP connections")
        .tag("node", nodeId)
        .register(registry);
    Gauge.builder("scribe.http.in.flight.bytes", bytes, AtomicLong::get)
        .description("request bytes held: bodies being received and writes awaiting an outcome")
        .tag("node", nodeId)
        .register(registry);
  }
}
