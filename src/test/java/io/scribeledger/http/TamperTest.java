package io.scribeledger.http;

import static io.scribeledger.support.Assertions2.assertError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.Cli;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A byte flipped on disk inside a sealed segment is found, reported, and never served as valid. */
@ExtendWith(VertxExtension.class)
class TamperTest {

  @Test
  void flippedByteIsReportedAndRefused(Vertx vertx, @TempDir Path dir) throws Exception {
    JsonObject config = TestNode.config("n1", dir, ProofApiTest.smallSegments());
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      writeFortyIntoSealedSegments(api);
      String url = "http://127.0.0.1:" + node.httpPort();
      assertEquals(0, Cli.run("verify", "--url", url, "t0").exitCode(), "intact before the tamper");
    }
    flipFirstValueByte(dir.resolve("segments").resolve(String.format("seg-%020d.log", 1)));

    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      String url = "http://127.0.0.1:" + node.httpPort();
      JsonObject health = awaitDegraded(api);
      assertTrue(health.getJsonArray("problems").encode().contains("segment 1"), health::encode);
      assertError(api.get("/kv/t0"), 503, "unavailable");
      assertError(api.get("/verify/t0"), 503, "unavailable");
      Cli verify = Cli.run("verify", "--url", url, "t0");
      assertEquals(1, verify.exitCode(), verify.out());
      assertTrue(verify.err().contains("FAILED"), verify.err());
      assertEquals(
          0, Cli.run("verify", "--url", url, "t39").exitCode(), "an intact entry still verifies");
      JsonObject scrub = api.send(HttpMethod.POST, "/admin/scrub", null, null).bodyAsJsonObject();
      assertFalse(scrub.getBoolean("clean"));
      int problems = scrub.getJsonArray("problems").size();
      assertEquals(
          2, problems, "checksum and value hash of the one damaged record: " + scrub.encode());
      assertTrue(
          api.get("/metrics/prometheus")
              .bodyAsString()
              .contains("scribe_integrity_problems{node=\"n1\"} 2.0"));
      assertEquals(
          problems,
          api.get("/metrics").bodyAsJsonObject().getJsonObject("integrity").getInteger("problems"));
    }
  }

  @Test
  void aLargeValueIsSentFromDiskOnlyAfterItsBytesAreChecked(Vertx vertx, @TempDir Path dir)
      throws Exception {
    // Values from 64 KiB on are hashed piece by piece and then sent from the segment file; a
    // flipped byte deep inside one (past the first 64 KiB piece) must still stop it being sent.
    JsonObject config = TestNode.config("n1", dir, new JsonObject());
    byte[] big = new byte[300_000];
    byte[] other = new byte[200_000];
    new java.util.Random(7).nextBytes(big);
    new java.util.Random(8).nextBytes(other);
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      assertEquals(201, api.put("/kv/big", big, "application/x-test").statusCode());
      assertEquals(201, api.put("/kv/other", other, "application/octet-stream").statusCode());
      var got = api.get("/kv/big");
      assertEquals(200, got.statusCode());
      assertArrayEquals(big, got.body().getBytes(), "the bytes sent from disk are the value");
      assertEquals("300000", got.getHeader("Content-Length"));
      assertEquals("application/x-test", got.getHeader("Content-Type"));
      assertEquals("1", got.getHeader("X-Ledger-Index"));
      var head = api.send(HttpMethod.HEAD, "/kv/big", null, null);
      assertEquals("300000", head.getHeader("Content-Length"));
      assertEquals(200, api.get("/verify/big").statusCode());

      // Each send opens a channel of its own: closed after the send, also when the client hangs
      // up before reading anything.
      long before = openFiles();
      for (int i = 0; i < 100; i++) {
        assertEquals(300_000, api.get("/kv/big").body().length());
        try (java.net.Socket gone =
            io.scribeledger.support.RawHttp.begin(
                node.httpPort(), "GET /kv/big HTTP/1.1\r\nHost: x\r\n\r\n")) {
          gone.setSoLinger(true, 0); // a reset, as a client that crashed
        }
      }
      awaitOpenFilesAtMost(before + 10);
    }
    flipValueByte(dir.resolve("segments").resolve(String.format("seg-%020d.log", 1)), 250_000);

    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      assertError(api.get("/kv/big"), 503, "unavailable");
      assertError(api.get("/verify/big"), 503, "unavailable");
      var intact = api.get("/kv/other");
      assertEquals(200, intact.statusCode());
      assertArrayEquals(other, intact.body().getBytes(), "the intact value is still served");
    }
  }

  @Test
  void aForgedEntryHeaderIsRefusedNotServed(Vertx vertx, @TempDir Path dir) throws Exception {
    JsonObject config = TestNode.config("n1", dir, ProofApiTest.smallSegments());
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      writeFortyIntoSealedSegments(api);
    }
    // Rewrite the first entry's key from "t0" to "t1" in its canonical header: a plausible forgery.
    rewriteFirstHeaderByte(
        dir.resolve("segments").resolve(String.format("seg-%020d.log", 1)), 4 + 22 + 1, '1');

    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      assertError(api.get("/kv/t0"), 503, "unavailable");
      assertError(api.get("/ledger/entries?from=1&limit=5"), 503, "unavailable");
      assertError(api.get("/history/t0"), 503, "unavailable");
      var intact = api.get("/kv/t1");
      assertEquals(200, intact.statusCode());
      assertEquals("value 1 " + "y".repeat(300), intact.bodyAsString());
      assertEquals("2", intact.getHeader("X-Ledger-Index"));
    }
  }

  @Test
  void anActiveSegmentCutShortIsReportedNotAccepted(Vertx vertx, @TempDir Path dir)
      throws Exception {
    JsonObject config = TestNode.config("n1", dir, new JsonObject());
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      for (int i = 0; i < 5; i++) {
        api.put("/kv/c" + i, "value " + i);
      }
    }
    Path active = dir.resolve("segments").resolve(String.format("seg-%020d.log", 1));
    try (FileChannel ch = FileChannel.open(active, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 10); // the last record loses its tail: committed bytes are gone
    }
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      JsonObject health = awaitDegraded(api);
      assertTrue(
          health.getJsonArray("problems").encode().contains("shorter than the"), health::encode);
      assertError(api.get("/kv/c4"), 503, "unavailable");
      assertEquals(200, api.get("/kv/c0").statusCode(), "entries before the cut are intact");
    }
  }

  /** Keys t0..t39 with 300-byte values: the first of them end up in sealed segments. */
  private static void writeFortyIntoSealedSegments(Api api) {
    for (int i = 0; i < 40; i++) {
      api.put("/kv/t" + i, "value " + i + " " + "y".repeat(300));
    }
    awaitSegments(api, 2);
  }

  static void awaitSegments(Api api, int count) {
    long deadline = System.currentTimeMillis() + 10_000;
    JsonArray segments = new JsonArray();
    while (System.currentTimeMillis() < deadline) {
      segments = api.get("/segments").bodyAsJsonObject().getJsonArray("segments");
      if (segments.size() >= count) {
        return;
      }
      api.get("/health");
    }
    throw new AssertionError("fewer than " + count + " sealed segments: " + segments.encode());
  }

  static JsonObject awaitDegraded(Api api) {
    long deadline = System.currentTimeMillis() + 10_000;
    JsonObject health = null;
    while (System.currentTimeMillis() < deadline) {
      health = api.get("/health").bodyAsJsonObject();
      if ("degraded".equals(health.getString("status"))) {
        return health;
      }
    }
    throw new AssertionError("/health never reported degraded: " + health);
  }

  /** Overwrites byte {@code offset} of a segment file (the first record's header starts at 4). */
  static void rewriteFirstHeaderByte(Path segment, long offset, char replacement) throws Exception {
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {(byte) replacement}), offset);
      ch.force(true);
    }
  }

  /**
   * Flips one bit in the first record's value: u32 header length, header, u32 value length, value.
   */
  static void flipFirstValueByte(Path segment) throws Exception {
    flipValueByte(segment, 3);
  }

  /** This JVM's open file descriptors (Linux). */
  static long openFiles() throws java.io.IOException {
    try (var fds = java.nio.file.Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  /** Polls until this JVM holds at most {@code limit} descriptors (closes follow sends). */
  static void awaitOpenFilesAtMost(long limit) throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    long open = openFiles();
    while (open > limit && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
      open = openFiles();
    }
    assertTrue(open <= limit, "file descriptors left open: " + open + " > " + limit);
  }

  /** Flips one bit at {@code offset} into the first record's value. */
  static void flipValueByte(Path segment, long offset) throws Exception {
    try (FileChannel ch =
        FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer len = ByteBuffer.allocate(4);
      ch.read(len, 0);
      long valueStart = 4L + len.flip().getInt() + 4;
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, valueStart + offset);
      b.put(0, (byte) (b.get(0) ^ 0x01));
      ch.write(b.rewind(), valueStart + offset);
      ch.force(true);
    }
  }
}
