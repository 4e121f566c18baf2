package io.scribeledger.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.TestNode;
import io.scribeledger.support.Tmpfs;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * An entry that cannot be applied (ENOSPC on a real tmpfs, the free-space floor off) stops the
 * node: it reports itself failed and not ready, takes no writes, serves no reads, and after a
 * restart with space back every acknowledged write is there. (In this JVM there is no launcher to
 * exit the process; DiskFullIT checks the exit.)
 */
@ExtendWith(VertxExtension.class)
class FailStopTest {

  static final long MIB = 1024 * 1024;

  @Test
  void aNodeThatCannotApplyReportsFailedAndServesNothingUntilRestarted(
      Vertx vertx, @TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    JsonObject config =
        TestNode.config(
            "n1", data, new JsonObject().put("storage", new JsonObject().put("minFreeBytes", 0)));
    Map<String, byte[]> acked = new LinkedHashMap<>();
    try (Tmpfs disk = Tmpfs.mount(data.resolve("segments"), 4 * MIB)) {
      try (TestNode node = TestNode.start(config);
          Api api = new Api(vertx, node.httpPort())) {
        Random random = new Random(3);
        int status = 201;
        for (int i = 0; i < 100 && status == 201; i++) {
          byte[] value = new byte[256 * 1024];
          random.nextBytes(value);
          HttpResponse<Buffer> r = api.put("/kv/v" + i, value, "application/octet-stream");
          status = r.statusCode();
          if (status == 201) {
            acked.put("v" + i, value);
          }
        }
        assertEquals(503, status, "the write the node could not apply is not acknowledged");
        assertFalse(acked.isEmpty());

        JsonObject health = api.get("/health").bodyAsJsonObject();
        assertEquals("failed", health.getString("status"), health.encode());
        assertTrue(health.getString("failure").contains("applying Raft entry"), health.encode());
        HttpResponse<Buffer> ready = api.get("/health/ready");
        assertEquals(503, ready.statusCode());
        assertTrue(ready.bodyAsJsonObject().getString("reason").startsWith("failed: "));
        HttpResponse<Buffer> write = api.put("/kv/after", "x");
        assertEquals(503, write.statusCode(), write.bodyAsString());
        assertEquals("unavailable", write.bodyAsJsonObject().getString("error"));
        HttpResponse<Buffer> read = api.get("/kv/v0?consistency=stale");
        assertEquals(
            503, read.statusCode(), "a failed node serves no reads: " + read.bodyAsString());
      }
      disk.resize(64 * MIB);
      try (TestNode node = TestNode.start(config);
          Api api = new Api(vertx, node.httpPort())) {
        for (Map.Entry<String, byte[]> e : acked.entrySet()) {
          HttpResponse<Buffer> r = api.get("/kv/" + e.getKey());
          assertEquals(200, r.statusCode(), e.getKey() + ": " + r.bodyAsString());
          assertArrayEquals(e.getValue(), r.body().getBytes());
        }
        assertEquals(201, api.put("/kv/after", "space is back").statusCode());
      }
    }
  }
}
