package io.scribeledger.discovery;

/**
 * Which sequence numbers of one sender were seen: the highest and a 64-wide window below it (as
 * IPsec does), so a datagram reordered a little is still taken and none is taken twice; and the
 * sender's incarnation, so that a restart, whose numbers may start lower, is taken while anything
 * its earlier runs sent is not.
 */
final class ReplayWindow {

  private static final int WIDTH = 64;

  private long incarnation = Long.MIN_VALUE;
  private long highest = -1;
  private long seen; // bit i: highest - i was seen

  /**
   * Records {@code seq} sent at {@code incarnation}; false when it was seen before, is older than
   * the window, or comes from an incarnation older than one already heard.
   */
  boolean accept(long incarnation, long seq) {
    if (incarnation < this.incarnation) {
      return false;
    }
    if (incarnation > this.incarnation) {
      // A refutation keeps numbering on; a restart may start below what its last run reached.
      if (this.incarnation != Long.MIN_VALUE && seq <= highest) {
        highest = -1;
        seen = 0;
      }
      this.incarnation = incarnation;
    }
    return accept(seq);
  }

  /** Records {@code seq}; false when it was seen before or is older than the window. */
  private boolean accept(long seq) {
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
