package io.scribeledger.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.scribeledger.support.Api;
import io.scribeledger.support.TestNode;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Each caller — a token, or a client address without one — has its own request and byte rates:
 * beyond them 429 {@code rate_limited} with Retry-After, nothing written, other callers unaffected,
 * and an audit line.
 */
@ExtendWith(VertxExtension.class)
class RateLimitTest {

  @Test
  void burstsBeyondACallersRatesAreRefusedWithRetryAfter(Vertx vertx, @TempDir Path dir)
      throws Exception {
    String busy = TokenStore.newToken();
    String bulk = TokenStore.newToken();
    String calm = TokenStore.newToken();
    JsonArray entries = new JsonArray();
    for (String[] t : new String[][] {{"busy", busy}, {"bulk", bulk}, {"calm", calm}}) {
      entries.add(
          new JsonObject()
              .put("name", t[0])
              .put("sha256", TokenStore.digestHex(t[1]))
              .put("role", "writer"));
    }
    Path tokens = dir.resolve("tokens.json");
    Files.writeString(tokens, new JsonObject().put("tokens", entries).encode());
    JsonObject config =
        TestNode.config(
            "n1",
            dir.resolve("n1"),
            new JsonObject()
                .put("security", new JsonObject().put("tokensFile", tokens.toString()))
                // Rates so low that refilling during the test adds at most one request, and a few
                // KB: the byte bucket holds one largest value plus 64 KiB (131,072 bytes), two
                // 60,000-byte writes leave too little for a third however slow they were.
                .put(
                    "rateLimit",
                    new JsonObject()
                        .put("requestsPerSecond", 1)
                        .put("burstRequests", 5)
                        .put("bytesPerSecond", 1_000))
                .put("limits", new JsonObject().put("maxValueBytes", 64 * 1024)));
    ListAppender<ILoggingEvent> audit = new ListAppender<>();
    Logger auditLogger = (Logger) LoggerFactory.getLogger(AuditLog.LOGGER);
    auditLogger.addAppender(audit);
    audit.start();
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      List<Integer> statuses = new ArrayList<>();
      HttpResponse<Buffer> limited = null;
      for (int i = 0; i < 10; i++) {
        HttpResponse<Buffer> r = api.send(HttpMethod.GET, "/kv/k", null, bearer(busy));
        statuses.add(r.statusCode());
        if (r.statusCode() == 429) {
          limited = r;
        }
      }
      assertTrue(statuses.subList(0, 5).stream().allMatch(s -> s == 404), statuses.toString());
      assertTrue(statuses.subList(6, 10).stream().allMatch(s -> s == 429), statuses.toString());
      assertEquals("rate_limited", limited.bodyAsJsonObject().getString("error"));
      assertTrue(Long.parseLong(limited.getHeader("Retry-After")) >= 1);

      // Another token has its own buckets; a refused write writes nothing.
      assertEquals(
          201,
          api.send(HttpMethod.PUT, "/kv/a", Buffer.buffer(new byte[60_000]), bearer(bulk))
              .statusCode());
      assertEquals(
          201,
          api.send(HttpMethod.PUT, "/kv/b", Buffer.buffer(new byte[60_000]), bearer(bulk))
              .statusCode());
      HttpResponse<Buffer> tooMuch =
          api.send(HttpMethod.PUT, "/kv/c", Buffer.buffer(new byte[60_000]), bearer(bulk));
      assertEquals(429, tooMuch.statusCode(), "bytes over the rate");
      assertEquals(404, api.send(HttpMethod.GET, "/kv/c", null, bearer(calm)).statusCode());

      // Without a valid token the client address is the caller: failed attempts are limited too.
      List<Integer> anonymous = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        anonymous.add(api.get("/kv/k").statusCode());
      }
      assertTrue(anonymous.contains(401) && anonymous.contains(429), anonymous.toString());
      assertEquals(200, api.get("/health/live").statusCode(), "probes are never limited");
    } finally {
      auditLogger.detachAppender(audit);
    }
    assertTrue(
        audit.list.stream()
            .map(e -> new JsonObject(e.getFormattedMessage()))
            .anyMatch(
                l ->
                    l.getString("event").equals("rate_limited")
                        && l.getString("principal").equals("busy")),
        audit.list.toString());
  }

  private static MultiMap bearer(String token) {
    return MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + token);
  }
}
