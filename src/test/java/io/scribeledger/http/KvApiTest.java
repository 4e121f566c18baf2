package io.scribeledger.http;

import static io.scribeledger.support.Assertions2.assertError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.ledger.CanonicalEntry;
import io.scribeledger.ledger.Op;
import io.scribeledger.merkle.Hashes;
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
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Every key-value route of API.md over real HTTP against a real single node. */
@ExtendWith(VertxExtension.class)
class KvApiTest {

  @TempDir static Path dir;
  static TestNode node;
  static Api api;

  @BeforeAll
  static void start(Vertx vertx) {
    node = TestNode.start(TestNode.config("n1", dir, new JsonObject()));
    api = new Api(vertx, node.httpPort());
  }

  @AfterAll
  static void stop() {
    api.close();
    node.close();
  }

  static String enc(String key) {
    return URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
  }

  static MultiMap headers(String... kv) {
    MultiMap m = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < kv.length; i += 2) {
      m.add(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void putReturnsReceiptThatTheClientCanRecompute() {
    HttpResponse<Buffer> r =
        api.put("/kv/receipt-key", "hello".getBytes(StandardCharsets.UTF_8), "text/plain");
    assertEquals(201, r.statusCode(), r.bodyAsString());
    JsonObject receipt = r.bodyAsJsonObject();
    assertEquals("receipt-key", receipt.getString("key"));
    assertEquals("PUT", receipt.getString("op"));
    assertEquals(1, receipt.getLong("version"));
    long index = receipt.getLong("index");
    assertEquals(index, receipt.getLong("treeSize"), "treeSize == index right after the entry");
    assertEquals(
        Hashes.hex(Hashes.sha256("hello".getBytes(StandardCharsets.UTF_8))),
        receipt.getString("valueSha256"));
    byte[] leaf =
        new CanonicalEntry(
                index,
                receipt.getLong("timestamp"),
                Op.PUT,
                "receipt-key",
                "text/plain",
                Hashes.fromHex(receipt.getString("valueSha256")))
            .leafHash();
    assertEquals(Hashes.hex(leaf), receipt.getString("leafHash"));
    assertEquals(64, receipt.getString("rootHash").length());
    assertEquals(Long.toString(index), r.getHeader("X-Ledger-Index"));
    assertEquals("1", r.getHeader("X-Key-Version"));
    assertEquals("\"" + receipt.getString("leafHash") + "\"", r.getHeader("ETag"));
  }

  @Test
  void getServesStoredBytesContentTypeAndHeaders() {
    JsonObject receipt =
        api.put("/kv/get-key", "{\"a\":1}".getBytes(StandardCharsets.UTF_8), "application/json")
            .bodyAsJsonObject();
    HttpResponse<Buffer> r =
        api.send(HttpMethod.GET, "/kv/get-key", null, headers("X-Request-Id", "req-42"));
    assertEquals(200, r.statusCode());
    assertEquals("{\"a\":1}", r.bodyAsString());
    assertEquals("application/json", r.getHeader("Content-Type"));
    assertEquals(receipt.getLong("index").toString(), r.getHeader("X-Ledger-Index"));
    assertEquals("1", r.getHeader("X-Key-Version"));
    assertEquals("\"" + receipt.getString("leafHash") + "\"", r.getHeader("ETag"));
    assertTrue(Long.parseLong(r.getHeader("X-Applied-Index")) >= receipt.getLong("index"));
    assertEquals("req-42", r.getHeader("X-Request-Id"));
  }

  @Test
  void binaryValuesRoundTripByteForByteWithDefaultContentType() {
    byte[] value = new byte[256 * 4];
    for (int i = 0; i < value.length; i++) {
      value[i] = (byte) i;
    }
    HttpResponse<Buffer> put = api.send(HttpMethod.PUT, "/kv/binary", Buffer.buffer(value), null);
    assertEquals(201, put.statusCode());
    HttpResponse<Buffer> get = api.get("/kv/binary");
    assertArrayEquals(value, get.body().getBytes());
    assertEquals("application/octet-stream", get.getHeader("Content-Type"));
  }

  @Test
  void unicodeAndPercentEncodedKeys() {
    String[] keys = {"ключ-日本語-✓", "a/b", "with space", "100%", "emoji-😀", "q?x=1&y", "plus+sign"};
    for (String key : keys) {
      HttpResponse<Buffer> put =
          api.put("/kv/" + enc(key), key.getBytes(StandardCharsets.UTF_8), "text/plain");
      assertEquals(201, put.statusCode(), key + ": " + put.bodyAsString());
      assertEquals(key, put.bodyAsJsonObject().getString("key"));
      HttpResponse<Buffer> get = api.get("/kv/" + enc(key));
      assertEquals(key, get.bodyAsString(), key);
      HttpResponse<Buffer> legacy = api.get("/" + enc(key));
      assertEquals(key, legacy.bodyAsString(), "legacy route for " + key);
    }
  }

  @Test
  void tenMebibyteValue() {
    byte[] value = new byte[10 * 1024 * 1024];
    new Random(7).nextBytes(value);
    HttpResponse<Buffer> put = api.put("/kv/big", value, "application/octet-stream");
    assertEquals(201, put.statusCode(), put.bodyAsString());
    assertEquals(Hashes.hex(Hashes.sha256(value)), put.bodyAsJsonObject().getString("valueSha256"));
    assertArrayEquals(value, api.get("/kv/big").body().getBytes());
  }

  @Test
  void reservedWordsAreKeysUnderKvAndRoutesAtTheTop() {
    for (String word : PathKeys.RESERVED) {
      assertEquals(201, api.put("/kv/" + word, "value of " + word).statusCode(), word);
      assertEquals("value of " + word, api.get("/kv/" + word).bodyAsString());
    }
    assertEquals("ok", api.get("/health").bodyAsJsonObject().getString("status"));
    assertError(api.get("/admin"), 404, "not_found");
  }

  @Test
  void seedCompatibleRoutes() {
    assertEquals(201, api.put("/legacy-key", "v1").statusCode());
    assertEquals("v1", api.get("/kv/legacy-key").bodyAsString());
    assertEquals("v1", api.get("/legacy-key").bodyAsString());
    assertEquals(200, api.delete("/legacy-key").statusCode());
    assertError(api.get("/legacy-key"), 404, "deleted");
  }

  @Test
  void headReturnsHeadersWithoutBody() {
    api.put("/kv/head-key", "twelve bytes".getBytes(StandardCharsets.UTF_8), "text/plain");
    HttpResponse<Buffer> r = api.send(HttpMethod.HEAD, "/kv/head-key", null, null);
    assertEquals(200, r.statusCode());
    assertEquals("12", r.getHeader("Content-Length"));
    assertEquals("text/plain", r.getHeader("Content-Type"));
    assertNotNull(r.getHeader("ETag"));
    assertNotNull(r.getHeader("X-Ledger-Index"));
    assertTrue(r.body() == null || r.body().length() == 0);
    assertEquals(404, api.send(HttpMethod.HEAD, "/kv/never-head", null, null).statusCode());
  }

  @Test
  void versionsAndPointInTimeReads() {
    api.put("/kv/before-versioned", "so that version 1 is not the first entry");
    long i1 = api.put("/kv/versioned", "one").bodyAsJsonObject().getLong("index");
    api.put("/kv/other-between", "x");
    JsonObject r2 = api.put("/kv/versioned", "two").bodyAsJsonObject();
    assertEquals(2, r2.getLong("version"));
    assertEquals("one", api.get("/kv/versioned?version=1").bodyAsString());
    assertEquals("two", api.get("/kv/versioned?version=2").bodyAsString());
    assertEquals("two", api.get("/kv/versioned").bodyAsString());
    assertEquals("one", api.get("/kv/versioned?at=" + i1).bodyAsString());
    assertEquals("one", api.get("/kv/versioned?at=" + (r2.getLong("index") - 1)).bodyAsString());
    assertEquals("two", api.get("/kv/versioned?at=" + r2.getLong("index")).bodyAsString());
    assertError(api.get("/kv/versioned?version=3"), 404, "not_found");
    assertError(api.get("/kv/versioned?at=" + (i1 - 1)), 404, "not_found");
    assertError(api.get("/kv/versioned?at=999999999"), 400, "invalid_request");
  }

  @Test
  void deleteAppendsTombstone() {
    api.put("/kv/doomed", "alive");
    HttpResponse<Buffer> del = api.delete("/kv/doomed");
    assertEquals(200, del.statusCode());
    JsonObject receipt = del.bodyAsJsonObject();
    assertEquals("DELETE", receipt.getString("op"));
    assertEquals(2, receipt.getLong("version"));
    assertEquals(Hashes.hex(Hashes.sha256(new byte[0])), receipt.getString("valueSha256"));
    JsonObject gone = assertError(api.get("/kv/doomed"), 404, "deleted");
    assertEquals(receipt.getLong("index"), gone.getLong("index"));
    assertError(api.delete("/kv/doomed"), 404, "deleted");
    assertError(api.delete("/kv/never-existed"), 404, "not_found");
    assertError(api.get("/kv/never-existed"), 404, "not_found");
    assertEquals(
        "alive", api.get("/kv/doomed?version=1").bodyAsString(), "history is never rewritten");
    assertEquals(201, api.put("/kv/doomed", "again").statusCode());
    assertEquals("again", api.get("/kv/doomed").bodyAsString());
  }

  @Test
  void historyListsVersionsOldestFirstWithPaging() {
    for (int i = 1; i <= 5; i++) {
      api.put("/kv/hist", "v" + i);
    }
    api.delete("/kv/hist");
    JsonObject all = api.get("/history/hist").bodyAsJsonObject();
    JsonArray versions = all.getJsonArray("versions");
    assertEquals("hist", all.getString("key"));
    assertEquals(6, versions.size());
    for (int i = 0; i < 6; i++) {
      JsonObject v = versions.getJsonObject(i);
      assertEquals(i + 1, v.getLong("version"));
      for (String field :
          new String[] {
            "index", "op", "timestamp", "contentType", "size", "valueSha256", "leafHash"
          }) {
        assertTrue(v.containsKey(field), field);
      }
    }
    assertEquals("DELETE", versions.getJsonObject(5).getString("op"));
    assertFalse(all.containsKey("nextAfter"));
    JsonObject page = api.get("/history/hist?after=2&limit=2").bodyAsJsonObject();
    assertEquals(3, page.getJsonArray("versions").getJsonObject(0).getLong("version"));
    assertEquals(2, page.getJsonArray("versions").size());
    assertEquals(4, page.getLong("nextAfter"));
    assertError(api.get("/history/no-such-key"), 404, "not_found");
  }

  @Test
  void conditionalWrites() {
    assertEquals(
        201,
        api.send(HttpMethod.PUT, "/kv/cond", Buffer.buffer("first"), headers("If-None-Match", "*"))
            .statusCode());
    assertError(
        api.send(
            HttpMethod.PUT, "/kv/cond", Buffer.buffer("second"), headers("If-None-Match", "*")),
        412,
        "precondition_failed");
    String etag = api.get("/kv/cond").getHeader("ETag");
    HttpResponse<Buffer> matched =
        api.send(HttpMethod.PUT, "/kv/cond", Buffer.buffer("third"), headers("If-Match", etag));
    assertEquals(201, matched.statusCode());
    assertError(
        api.send(HttpMethod.PUT, "/kv/cond", Buffer.buffer("stale"), headers("If-Match", etag)),
        412,
        "precondition_failed");
    assertError(
        api.send(HttpMethod.DELETE, "/kv/cond", null, headers("If-Match", etag)),
        412,
        "precondition_failed");
    assertEquals("third", api.get("/kv/cond").bodyAsString());
    assertEquals(
        200,
        api.send(
                HttpMethod.DELETE, "/kv/cond", null, headers("If-Match", matched.getHeader("ETag")))
            .statusCode());
    assertEquals(
        201,
        api.send(HttpMethod.PUT, "/kv/cond", Buffer.buffer("reborn"), headers("If-None-Match", "*"))
            .statusCode());
  }

  @Test
  void readConsistencyModes() {
    long index = api.put("/kv/consistent", "c").bodyAsJsonObject().getLong("index");
    assertEquals("c", api.get("/kv/consistent?consistency=linearizable").bodyAsString());
    assertEquals("c", api.get("/kv/consistent?consistency=stale").bodyAsString());
    assertEquals("c", api.get("/kv/consistent?minIndex=" + index).bodyAsString());
    assertError(api.get("/kv/consistent?minIndex=" + (index + 1_000_000)), 503, "timeout");
  }

  @Test
  void nodeRoutesReportRealRaftState() {
    JsonObject health = api.get("/health").bodyAsJsonObject();
    assertEquals("ok", health.getString("status"));
    assertEquals("n1", health.getString("nodeId"));
    assertEquals("LEADER", health.getString("role"));
    assertEquals("n1", health.getString("leaderId"));
    assertEquals(200, api.get("/health/live").statusCode());
    assertEquals(200, api.get("/health/ready").statusCode());

    long size = api.put("/kv/status-probe", "s").bodyAsJsonObject().getLong("index");
    JsonObject status = api.get("/cluster/status").bodyAsJsonObject();
    assertEquals("LEADER", status.getString("role"));
    assertTrue(status.getLong("term") >= 1);
    assertTrue(status.getLong("commitIndex") >= size, status::encode);
    assertTrue(status.getLong("appliedIndex") >= size);
    JsonArray members = status.getJsonArray("members");
    assertEquals(1, members.size());
    JsonObject me =
        api.get("/cluster/members").bodyAsJsonObject().getJsonArray("members").getJsonObject(0);
    assertEquals("n1", me.getString("nodeId"));
    assertTrue(me.getBoolean("voter"));
    assertEquals(
        node.config().getJsonObject("raft").getInteger("port"),
        Integer.parseInt(me.getString("raftAddress").split(":", -1)[1]));
    assertEquals("127.0.0.1:" + node.httpPort(), me.getString("httpAddress"));
    JsonObject leader = api.get("/cluster/leader").bodyAsJsonObject();
    assertEquals("n1", leader.getString("leaderId"));
    assertEquals("127.0.0.1:" + node.httpPort(), leader.getString("httpAddress"));
    assertError(
        api.send(HttpMethod.POST, "/cluster/join", Buffer.buffer("{}"), null),
        400,
        "invalid_request");
    assertError(
        api.send(HttpMethod.POST, "/cluster/join", Buffer.buffer("not json"), null),
        400,
        "invalid_request");
    assertError(
        api.send(
            HttpMethod.POST,
            "/cluster/join",
            Buffer.buffer("{\"nodeId\":\"n9\",\"raftAddress\":\"nohost\",\"httpAddress\":\"h:1\"}"),
            null),
        400,
        "invalid_request");
    assertError(
        api.send(HttpMethod.POST, "/cluster/leave", Buffer.buffer("{\"nodeId\":\"nobody\"}"), null),
        404,
        "not_found");
    assertError(
        api.send(HttpMethod.POST, "/cluster/leave", Buffer.buffer("{\"nodeId\":\"n1\"}"), null),
        400,
        "invalid_request");
    assertError(
        api.send(HttpMethod.POST, "/cluster/leave", Buffer.buffer("[1,2]"), null),
        400,
        "invalid_request");
  }

  @Test
  void metricsInJsonAndPrometheus() {
    api.put("/kv/metered", "m");
    api.get("/kv/metered");
    JsonObject m = api.get("/metrics").bodyAsJsonObject();
    assertTrue(m.getJsonObject("requests").getLong("total") > 0);
    assertTrue(
        m.getJsonObject("requests").getJsonObject("routes").containsKey("PUT /kv/{key}"),
        m::encode);
    assertTrue(m.getJsonObject("ledger").getLong("size") > 0);
    assertTrue(m.getJsonObject("raft").getLong("term") >= 1);
    assertTrue(m.getJsonObject("segments").getLong("local") >= 1);
    HttpResponse<Buffer> prom = api.get("/metrics/prometheus");
    assertEquals(200, prom.statusCode());
    assertTrue(prom.getHeader("Content-Type").startsWith("text/plain; version=0.0.4"));
    String text = prom.bodyAsString();
    assertTrue(text.contains("scribe_http_requests_seconds_bucket{"), "request latency histogram");
    assertTrue(text.contains("scribe_ledger_size{node=\"n1\"}"), "ledger gauge");
    assertTrue(sample(text, "scribe_raft_term") >= 1, "raft term gauge");
    assertEquals(1.0, sample(text, "scribe_raft_leader_known"), "leader gauge");
    assertTrue(
        sample(text, "scribe_raft_applied_index") >= sample(text, "scribe_ledger_size"),
        "applied index gauge");
    assertTrue(
        sample(text, "scribe_raft_commit_index") >= sample(text, "scribe_raft_applied_index"),
        "commit index gauge");
    assertTrue(text.contains("vertx_http_server_"), "Vert.x Micrometer metrics");
  }

  /** The value of gauge {@code name} of node n1 in a Prometheus text page. */
  private static double sample(String text, String name) {
    String prefix = name + "{node=\"n1\"} ";
    return text.lines()
        .filter(l -> l.startsWith(prefix))
        .mapToDouble(l -> Double.parseDouble(l.substring(prefix.length())))
        .findFirst()
        .orElseThrow(() -> new AssertionError(name + " missing"));
  }

  @Test
  void unknownRoutesAndWrongMethods() {
    assertError(api.get("/health/nope"), 404, "not_found");
    assertError(api.get("/ledger/whatever"), 404, "not_found");
    assertError(api.get("/"), 404, "not_found");
    HttpResponse<Buffer> post = api.send(HttpMethod.POST, "/health", null, null);
    assertError(post, 405, "method_not_allowed");
    assertEquals("GET", post.getHeader("Allow"));
    assertError(
        api.send(HttpMethod.PATCH, "/kv/x", Buffer.buffer("y"), null), 405, "method_not_allowed");
    assertError(
        api.send(HttpMethod.POST, "/some-key", Buffer.buffer("y"), null),
        405,
        "method_not_allowed");
    assertError(api.send(HttpMethod.DELETE, "/history/x", null, null), 405, "method_not_allowed");
    assertError(api.send(HttpMethod.GET, "/cluster/join", null, null), 405, "method_not_allowed");
    assertNull(api.get("/health").getHeader("Allow"));
  }
}
