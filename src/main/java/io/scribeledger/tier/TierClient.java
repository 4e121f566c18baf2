package io.scribeledger.tier;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

/** The HTTP side's handle on the tiering verticle: its status, over the local event bus. */
public final class TierClient {

  private final Vertx vertx;
  private final String address;

  public TierClient(Vertx vertx, String nodeId) {
    this.vertx = vertx;
    this.address = TierVerticle.address(nodeId);
  }

  /** The archive's lag as the tiering verticle last saw it. */
  public Future<TierStatus> status() {
    return vertx
        .eventBus()
        .<Object>request(
            address,
            new TierRequest.Status(),
            // /health waits for this: a stalled verticle must not hold the probe up.
            new io.vertx.core.eventbus.DeliveryOptions(TierVerticle.LOCAL).setSendTimeout(2000))
        .map(reply -> (TierStatus) reply.body());
  }
}
