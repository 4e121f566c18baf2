package io.scribeledger.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.RawHttp;
import io.scribeledger.support.RawHttp.Raw;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests the HTTP decoder refuses before routing, sent as raw bytes: each gets API.md's JSON
 * {@code bad_request}, the connection is closed, and nothing is appended.
 */
@ExtendWith(VertxExtension.class)
class MalformedHttpTest {

  @TempDir static Path dir;
  static TestNode node;
  static Api api;

  @BeforeAll
  static void start(Vertx vertx) {
    node = TestNode.start(TestNode.config("n1", dir, new JsonObject()));
    api = new Api(vertx, node.httpPort());
    api.put("/kv/existing", "v");
  }

  @AfterAll
  static void stop() {
    api.close();
    node.close();
  }

  static Stream<Arguments> malformed() {
    String put = "PUT /kv/k HTTP/1.1\r\nHost: x\r\n";
    return Stream.of(
        bad("unknown HTTP version", bytes("GET / HTTP/9.9\r\nHost: x\r\n\r\n")),
        bad(
            "non-ASCII method",
            concat(
                new byte[] {'G', (byte) 0xC3, (byte) 0xA9, 'T'},
                bytes(" /kv/existing HTTP/1.1\r\nHost: x\r\n\r\n"))),
        bad("bare method", bytes("GET\r\n\r\n")),
        bad("negative Content-Length", bytes(put + "Content-Length: -5\r\n\r\nhello")),
        bad("non-numeric Content-Length", bytes(put + "Content-Length: abc\r\n\r\nhello")),
        bad(
            "20-digit Content-Length",
            bytes(put + "Content-Length: 12345678901234567890\r\n\r\nhello")),
        bad(
            "two different Content-Lengths",
            bytes(put + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")),
        bad(
            "broken chunk size",
            bytes(put + "Transfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n")),
        bad(
            "broken chunk after a good one",
            bytes(put + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nQ\r\nhello\r\n0\r\n\r\n")),
        bad(
            "control character in a header value",
            bytes(put + "X-Note: a\u0001b\r\nContent-Length: 1\r\n\r\nv")),
        bad("space in a header name", bytes(put + "Bad Name: v\r\nContent-Length: 1\r\n\r\nv")),
        bad("unparseable URI", bytes("GET /kv/a b c HTTP/1.1\r\nHost: x\r\n\r\n")),
        bad("unparseable absolute URI", bytes("GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n")),
        bad(
            "request target that is neither a path nor a URI",
            bytes("GET kv/existing HTTP/1.1\r\nHost: x\r\n\r\n")),
        bad(
            "a broken request after a good one on the same connection",
            bytes("GET /kv/existing HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/9.9\r\n\r\n")),
        Arguments.of(
            "request line too long",
            bytes("GET /kv/" + "k".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n"),
            414),
        Arguments.of(
            "headers too large",
            bytes(
                "GET /kv/existing HTTP/1.1\r\nHost: x\r\nX-Big: " + "v".repeat(9000) + "\r\n\r\n"),
            431));
  }

  static Arguments bad(String what, byte[] request) {
    return Arguments.of(what, request, 400);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void answersJsonBadRequestAndCloses(String what, byte[] request, int status) throws IOException {
    long before = api.ledgerSize();
    Raw raw = exchange(request);
    assertEquals(status, raw.status(), what + ": " + raw.text());
    assertTrue(raw.header("content-type").startsWith("application/json"), what + ": " + raw.text());
    JsonObject body = new JsonObject(raw.body());
    assertEquals("bad_request", body.getString("error"), what);
    String message = body.getString("message");
    assertFalse(message == null || message.isBlank(), what);
    assertFalse(
        message.contains("Exception") || message.contains("\tat "),
        what + ": no stack trace: " + message);
    assertTrue(raw.closed(), what + ": the server must close the connection");
    assertEquals(before, api.ledgerSize(), what + ": nothing may be appended");
  }

  @Test
  void aWellFormedRequestOnTheSameServerStillWorks() throws IOException {
    Raw raw = exchange(bytes("GET /kv/existing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    assertEquals(200, raw.status(), raw.text());
    assertEquals("v", raw.body());
  }

  static Raw exchange(byte[] request) throws IOException {
    return RawHttp.exchange(node.httpPort(), request);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
