package io.scribeledger.discovery;

/** What may be asked of the discovery verticle over the event bus. */
public sealed interface DiscoveryRequest {

  /** The members as this node sees them; replies with a {@link DiscoveryStatus}. */
  record Status() implements DiscoveryRequest {}
}
