package io.scribeledger.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
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

  /** A response read until the server closes the connection (or a 10 s read timeout). */
  record Raw(String head, String body, boolean closed) {
    int status() {
      return Integer.parseInt(head.split(" ", 3)[1]);
    }

    String header(String name) {
      for (String line : head.split("\r\n", -1)) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
          return line.substring(colon + 1).trim();
        }
      }
      return "";
    }

    String text() {
      return head + "\r\n\r\n" + body;
    }
  }

  static Raw exchange(byte[] request) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), node.httpPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(request);
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream seen = new ByteArrayOutputStream();
      byte[] buf = new byte[4096];
      boolean closed;
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          seen.write(buf, 0, n);
        }
        closed = true;
      } catch (java.net.SocketTimeoutException e) {
        closed = false;
      }
      String all = seen.toString(StandardCharsets.ISO_8859_1);
      // Pipelined requests: the answer that matters is the last response on the connection.
      int last = all.lastIndexOf("HTTP/1.1 ");
      all = last < 0 ? all : all.substring(last);
      int split = all.indexOf("\r\n\r\n");
      if (split < 0) {
        return new Raw(all.isEmpty() ? "HTTP/1.1 000 nothing" : all, "", closed);
      }
      return new Raw(all.substring(0, split), all.substring(split + 4), closed);
    }
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
