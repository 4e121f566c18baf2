package io.scribeledger.auth;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Security-relevant events as one JSON object per line on the {@value #LOGGER} logger, which
 * operators can route to a file or shipper of its own (conf/logback.xml). Never carries a secret:
 * callers pass names, routes and outcomes, never a token or key material.
 */
public final class AuditLog {

  /** The logger name; conf/logback.xml gives it its own appender. */
  public static final String LOGGER = "scribe.audit";

  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

  private AuditLog() {}

  /** One event: what happened, who asked, on which route and request, and how it ended. */
  public record Event(
      String event,
      String principal,
      String route,
      String requestId,
      String client,
      String outcome,
      String detail) {}

  public static void record(Event e) {
    JsonObject line = new JsonObject().put("time", Instant.now().toString());
    putIfPresent(line, "event", e.event());
    putIfPresent(line, "principal", e.principal());
    putIfPresent(line, "route", e.route());
    putIfPresent(line, "requestId", e.requestId());
    putIfPresent(line, "client", e.client());
    putIfPresent(line, "outcome", e.outcome());
    putIfPresent(line, "detail", e.detail());
    LOG.info(line.encode());
  }

  private static void putIfPresent(JsonObject line, String field, String value) {
    if (value != null) {
      line.put(field, value);
    }
  }
}
