package io.scribeledger.discovery;

/**
 * Which sequence numbers of one sender were seen: the highest and a 64-wide window below it (as
 * IPsec does), so a datagram reordered a little is still taken and none is taken twice.
 */
final class ReplayWindow {

  private static final int WIDTH = 64;

  private long highest = -1;
  private long seen; // bit i: highest - i was seen

  /** Records {@code seq}; false when it was seen before or is older than the window. */
  boolean accept(long seq) {
    if (seq < 0) {
      return false;
    }
    if (highest < 0 || seq > highest) {
      long shift = highest < 0 ? WIDTH : seq - highest;
      seen = shift >= WIDTH ? 1 : (seen << shift) | 1;
      highest = seq;
      return true;
    }
    long back = highest - seq;
    if (back >= WIDTH) {
      return false;
    }
    long bit = 1L << back;
    if ((seen & bit) != 0) {
      return false;
    }
    seen |= bit;
    return true;
  }
}
