package io.scribeledger.http;

import static io.scribeledger.support.Assertions2.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.scribeledger.support.Api;
import io.scribeledger.support.TestNode;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hostile input gets its JSON error from API.md and appends nothing. */
@ExtendWith(VertxExtension.class)
class HostileInputTest {

  static final int MAX_VALUE = 64 * 1024;

  @TempDir static Path dir;
  static TestNode node;
  static Api api;
  static Vertx clientVertx;
  long sizeBefore;

  @BeforeAll
  static void start(Vertx vertx) {
    clientVertx = vertx;
    node =
        TestNode.start(
            TestNode.config(
                "n1",
                dir,
                new JsonObject().put("limits", new JsonObject().put("maxValueBytes", MAX_VALUE))));
    api = new Api(vertx, node.httpPort());
    api.put("/kv/existing", "v");
  }

  @AfterAll
  static void stop() {
    api.close();
    node.close();
  }

  @BeforeEach
  void rememberSize() {
    sizeBefore = api.ledgerSize();
  }

  @AfterEach
  void nothingWasAppended() {
    assertEquals(sizeBefore, api.ledgerSize(), "refused input must not change the ledger");
  }

  @Test
  void overLongKey() {
    assertError(api.put("/kv/" + "k".repeat(1025), "v"), 400, "invalid_key");
    assertError(api.put("/kv/" + "é".repeat(513), "v"), 400, "invalid_key");
    assertError(api.get("/kv/" + "k".repeat(1025)), 400, "invalid_key");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "a%00b",
        "a%1Fb",
        "a%7Fb",
        "%0A",
        "tab%09",
        "%ZZ",
        "bad%",
        "bad%4",
        "%C3%28",
        "%E2%82",
        "%ED%A0%80",
        "a/b",
        ""
      })
  void malformedOrControlCharacterKeys(String raw) {
    assertError(api.put("/kv/" + raw, "v"), 400, "invalid_key");
    assertError(api.get("/kv/" + raw), 400, "invalid_key");
    assertError(api.delete("/kv/" + raw), 400, "invalid_key");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "version=abc",
        "version=-1",
        "version=0",
        "version=1&version=2",
        "verison=1",
        "at=0",
        "at=99999999999999999999",
        "version=1&at=1",
        "consistency=weird",
        "%ZZ=1",
        "version=%ZZ",
        "minIndex=x",
        "consistency=linearizable&minIndex=1",
        "version=1.5",
        "version=+1",
        "version="
      })
  void malformedReadParameters(String query) {
    assertError(api.get("/kv/existing?" + query), 400, "invalid_request");
  }

  @ParameterizedTest
  @ValueSource(strings = {"limit=0", "limit=1001", "limit=-5", "after=x", "after=-1", "foo=bar"})
  void malformedHistoryParameters(String query) {
    assertError(api.get("/history/existing?" + query), 400, "invalid_request");
  }

  @Test
  void writesTakeNoQueryParameters() {
    assertError(api.put("/kv/existing?version=3", "v"), 400, "invalid_request");
    assertError(api.delete("/kv/existing?force=true"), 400, "invalid_request");
  }

  @Test
  void bodyOverTheLimitWithContentLength() {
    assertError(
        api.put("/kv/too-big", new byte[MAX_VALUE + 1], "application/octet-stream"),
        413,
        "value_too_large");
    assertError(api.get("/kv/too-big"), 404, "not_found");
  }

  @Test
  void chunkedBodyOverTheLimitIsCutOff() throws Exception {
    HttpClient client = clientVertx.createHttpClient();
    try {
      record Reply(int status, Buffer body) {}
      Reply reply =
          client
              .request(
                  new RequestOptions()
                      .setMethod(HttpMethod.PUT)
                      .setHost("127.0.0.1")
                      .setPort(node.httpPort())
                      .setURI("/kv/too-big-chunked"))
              .compose(
                  req -> {
                    req.setChunked(true);
                    for (int i = 0; i < 8; i++) {
                      req.write(Buffer.buffer(new byte[MAX_VALUE / 4]));
                    }
                    req.end();
                    return req.response()
                        .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), b)));
                  })
              .await(30, TimeUnit.SECONDS);
      assertEquals(413, reply.status());
      assertEquals("value_too_large", reply.body().toJsonObject().getString("error"));
    } finally {
      client.close().await();
    }
  }

  @Test
  void exactlyAtTheLimitIsAccepted() {
    // Counterpart of the two tests above: the limit is inclusive, so the refusal is not a blanket
    // one.
    long before = sizeBefore;
    assertEquals(
        201, api.put("/kv/at-limit", new byte[MAX_VALUE], "application/octet-stream").statusCode());
    sizeBefore = before + 1;
  }

  @Test
  void wrongMethods() {
    assertError(
        api.send(HttpMethod.POST, "/kv/existing", Buffer.buffer("v"), null),
        405,
        "method_not_allowed");
    assertError(
        api.send(HttpMethod.PATCH, "/existing", Buffer.buffer("v"), null),
        405,
        "method_not_allowed");
    assertError(
        api.send(HttpMethod.PUT, "/health", Buffer.buffer("v"), null), 405, "method_not_allowed");
    assertError(
        api.send(HttpMethod.PUT, "/history/existing", Buffer.buffer("v"), null),
        405,
        "method_not_allowed");
  }

  static java.util.stream.Stream<String> garbageHeaders() {
    return java.util.stream.Stream.of(
        "If-Match=garbage",
        "If-Match=\"abc\"",
        "If-Match=" + "g".repeat(64),
        "If-None-Match=abc",
        "If-None-Match=\"etag\"",
        "X-Request-Id=has spaces in it",
        "X-Request-Id=" + "x".repeat(200),
        "Content-Type=text/plain; charset=\u00e9");
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.MethodSource("garbageHeaders")
  void garbageHeaders(String header) {
    int eq = header.indexOf('=');
    MultiMap h =
        MultiMap.caseInsensitiveMultiMap().add(header.substring(0, eq), header.substring(eq + 1));
    assertError(
        api.send(HttpMethod.PUT, "/kv/existing", Buffer.buffer("new"), h), 400, "invalid_request");
  }

  @Test
  void conflictingConditionHeaders() {
    String etag = api.get("/kv/existing").getHeader("ETag");
    MultiMap h = MultiMap.caseInsensitiveMultiMap().add("If-Match", etag).add("If-None-Match", "*");
    assertError(
        api.send(HttpMethod.PUT, "/kv/existing", Buffer.buffer("new"), h), 400, "invalid_request");
  }

  @Test
  void overLongContentType() {
    MultiMap h = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "text/" + "x".repeat(300));
    assertError(
        api.send(HttpMethod.PUT, "/kv/existing", Buffer.buffer("new"), h), 400, "invalid_request");
  }
}
