package io.scribeledger.discovery;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

/** The HTTP side's handle on the discovery verticle, over the local event bus. */
public final class DiscoveryClient {

  private final Vertx vertx;
  private final String address;

  public DiscoveryClient(Vertx vertx, String nodeId) {
    this.vertx = vertx;
    this.address = DiscoveryVerticle.address(nodeId);
  }

  /** The members as the failure detector sees them now. */
  public Future<DiscoveryStatus> status() {
    return vertx
        .eventBus()
        .<Object>request(
            address,
            new DiscoveryRequest.Status(),
            // /health waits for this: a stalled verticle must not hold the probe up.
            new io.vertx.core.eventbus.DeliveryOptions(DiscoveryVerticle.LOCAL)
                .setSendTimeout(2000))
        .map(reply -> (DiscoveryStatus) reply.body());
  }
}
