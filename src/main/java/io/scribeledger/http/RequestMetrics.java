package io.scribeledger.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Request counts and latency histograms per route and status, in the node's Micrometer registry.
 */
public final class RequestMetrics {

  static final String NAME = "scribe.http.requests";

  private final MeterRegistry registry;
  private final String nodeId;

  public RequestMetrics(MeterRegistry registry, String nodeId) {
    this.registry = registry;
    this.nodeId = nodeId;
  }

  /** Starts timing a request; records it when the response has been written. */
  public void track(RoutingContext ctx) {
    long start = System.nanoTime();
    ctx.addEndHandler(
        ar -> {
          String route = ctx.get(Routes.ROUTE_LABEL, "other");
          Timer.builder(NAME)
              .description("HTTP requests by route, method and status")
              .tag("node", nodeId)
              .tag("route", route)
              .tag("method", ctx.request().method().name())
              .tag("status", Integer.toString(ctx.response().getStatusCode()))
              .publishPercentileHistogram()
              .register(registry)
              .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        });
  }

  /** Counts and latencies for {@code /metrics}. */
  public JsonObject summary() {
    long total = 0;
    long errors = 0;
    TreeMap<String, JsonObject> routes = new TreeMap<>();
    for (Timer t : registry.find(NAME).tag("node", nodeId).timers()) {
      long count = t.count();
      total += count;
      String status = t.getId().getTag("status");
      if (status != null && status.compareTo("400") >= 0) {
        errors += count;
      }
      String name = t.getId().getTag("method") + " " + t.getId().getTag("route");
      JsonObject r =
          routes.computeIfAbsent(
              name, n -> new JsonObject().put("count", 0L).put("totalMs", 0.0).put("maxMs", 0.0));
      r.put("count", r.getLong("count") + count)
          .put("totalMs", r.getDouble("totalMs") + t.totalTime(TimeUnit.MILLISECONDS))
          .put("maxMs", Math.max(r.getDouble("maxMs"), t.max(TimeUnit.MILLISECONDS)));
    }
    JsonObject byRoute = new JsonObject();
    routes.forEach(
        (name, r) ->
            byRoute.put(
                name,
                new JsonObject()
                    .put("count", r.getLong("count"))
                    .put(
                        "meanMs",
                        r.getLong("count") == 0 ? 0.0 : r.getDouble("totalMs") / r.getLong("count"))
                    .put("maxMs", r.getDouble("maxMs"))));
    return new JsonObject().put("total", total).put("errors", errors).put("routes", byRoute);
  }
}
