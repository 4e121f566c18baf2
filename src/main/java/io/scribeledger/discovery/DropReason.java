package io.scribeledger.discovery;

/** Why a datagram was dropped before the protocol saw it; each is counted. */
public enum DropReason {
  /** Larger than {@link PacketCodec#MAX_BYTES}. */
  OVERSIZED,
  /** Not a discovery packet of a version we read, or cut short, or fields out of bounds. */
  MALFORMED,
  /** Signed with a key id this node does not hold. */
  UNKNOWN_KEY,
  /** The HMAC does not match: forged or damaged. */
  BAD_MAC,
  /** Authentic, but for another cluster. */
  WRONG_CLUSTER,
  /** Its timestamp is further from this node's clock than the allowed skew. */
  STALE,
  /** Its sender's sequence number was seen already (or is too old to tell). */
  REPLAYED;

  /** The tag value in metrics. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
