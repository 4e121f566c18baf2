package io.scribeledger.tier;

/** What may be asked of the tiering verticle over the event bus. */
public sealed interface TierRequest {

  /** The archive's lag on this node; replies with a {@link TierStatus}. */
  record Status() implements TierRequest {}
}
