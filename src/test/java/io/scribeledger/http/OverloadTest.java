package io.scribeledger.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.HttpProbe;
import io.scribeledger.support.RawHttp;
import io.scribeledger.support.RawHttp.Raw;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node bounds what it holds for clients: bytes in flight beyond the cap are answered 429 {@code
 * overloaded} with Retry-After (nothing written), a body that trickles is cut with 408, a
 * connection beyond the cap is closed at once, and a silent one after the idle timeout.
 */
@ExtendWith(VertxExtension.class)
class OverloadTest {

  static final int KIB = 1024;

  @Test
  void bytesInFlightBeyondTheCapAreRefusedAndFreedWhenTheirRequestEnds(
      Vertx vertx, @TempDir Path dir) throws Exception {
    JsonObject config =
        TestNode.config(
            "n1",
            dir,
            new JsonObject().put("http", new JsonObject().put("maxInFlightBytes", 1 << 20)));
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      long before = api.ledgerSize();
      // An upload declares 900 KiB and sends only the headers: the whole of it is reserved.
      try (Socket slow =
          RawHttp.begin(
              node.httpPort(),
              "PUT /kv/slow HTTP/1.1\r\nHost: x\r\nContent-Length: " + 900 * KIB + "\r\n\r\n")) {
        awaitInFlight(api, 900 * KIB);
        var refused = api.put("/kv/second", new byte[200 * KIB], "application/octet-stream");
        assertEquals(429, refused.statusCode(), refused.bodyAsString());
        assertEquals("overloaded", refused.bodyAsJsonObject().getString("error"));
        assertEquals("1", refused.getHeader("Retry-After"));
        assertEquals(before, api.ledgerSize(), "nothing was written");
        assertTrue(slow.isConnected(), "the slow upload still holds its bytes");
      }
      // The slow client hung up: its bytes are released, the same write goes through.
      awaitInFlight(api, 0);
      assertEquals(
          201, api.put("/kv/second", new byte[200 * KIB], "application/octet-stream").statusCode());
    }
  }

  @Test
  void aBodyThatTricklesIsCutSoItCannotHoldTheBudget(@TempDir Path dir) throws Exception {
    try (TestNode node = TestNode.start(TestNode.config("n1", dir, new JsonObject()));
        Socket slow =
            RawHttp.begin(
                node.httpPort(),
                "PUT /kv/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")) {
      Raw cut = RawHttp.readUntilClosed(slow);
      assertEquals(408, cut.status(), cut.text());
      assertTrue(cut.body().contains("\"request_timeout\""), cut.body());
      assertTrue(cut.closed());
    }
  }

  @Test
  void connectionsBeyondTheCapAreClosedAtOnce(@TempDir Path dir) throws Exception {
    JsonObject config =
        TestNode.config(
            "n1", dir, new JsonObject().put("http", new JsonObject().put("maxConnections", 4)));
    try (TestNode node = TestNode.start(config)) {
      List<Socket> held = new ArrayList<>();
      try {
        for (int i = 0; i < 12; i++) {
          held.add(RawHttp.begin(node.httpPort(), ""));
        }
        // The server keeps at most 4 of them (fewer if another client holds a slot) and closes
        // the rest at once, unanswered.
        int open = 0;
        for (Socket s : held) {
          s.setSoTimeout(300);
          try {
            if (s.getInputStream().read() >= 0) {
              throw new AssertionError("the server sent something on a silent connection");
            }
          } catch (SocketTimeoutException stillOpen) {
            open++;
          }
        }
        assertTrue(open <= 4, open + " connections kept open, the cap is 4");
        Raw over =
            RawHttp.exchange(
                node.httpPort(),
                "GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(0, over.status(), "closed at once, unanswered: " + over.text());
        assertTrue(over.closed());
      } finally {
        for (Socket s : held) {
          s.close();
        }
      }
      new HttpProbe(node.baseUrl()).awaitStatus("/health/live", 200, 10_000); // slots free again
    }
  }

  @Test
  void aSilentConnectionIsClosedAfterTheIdleTimeout(@TempDir Path dir) throws Exception {
    JsonObject config =
        TestNode.config(
            "n1", dir, new JsonObject().put("http", new JsonObject().put("idleTimeoutMs", 1500)));
    try (TestNode node = TestNode.start(config);
        Socket silent = RawHttp.begin(node.httpPort(), "")) {
      long start = System.nanoTime();
      Raw idle = RawHttp.readUntilClosed(silent);
      assertTrue(idle.closed(), "an idle connection is closed by the server");
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms >= 1000 && ms < 8000, "closed after about the idle timeout: " + ms + " ms");
    }
  }

  /** Polls the in-flight gauge until it reads {@code bytes} (bounded). */
  private static void awaitInFlight(Api api, long bytes) {
    long deadline = System.currentTimeMillis() + 10_000;
    long seen = -1;
    while (System.currentTimeMillis() < deadline) {
      seen = api.get("/metrics").bodyAsJsonObject().getJsonObject("http").getLong("bytesInFlight");
      if (seen == bytes) {
        return;
      }
    }
    throw new AssertionError("bytes in flight stayed " + seen + ", expected " + bytes);
  }
}
