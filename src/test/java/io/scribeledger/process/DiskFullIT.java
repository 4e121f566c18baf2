package io.scribeledger.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.History;
import io.scribeledger.support.HttpProbe;
import io.scribeledger.support.JarProcess;
import io.scribeledger.support.TestNode;
import io.scribeledger.support.Tmpfs;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A node whose disk fills up, on a real small file system (tmpfs): above the free-space floor it
 * refuses writes cleanly (507) and resumes when space returns, without a restart; with the floor
 * off the apply that hits ENOSPC fails stop (exit 3) and the restart loses no acknowledged write
 * and never signs two trees of one size.
 */
@ExtendWith(VertxExtension.class)
class DiskFullIT {

  static final int VALUE_BYTES = 256 * 1024;
  static final long MIB = 1024 * 1024;

  @ParameterizedTest(name = "{0} on a full disk")
  @ValueSource(strings = {"segments", "raft"})
  void belowTheFloorWritesAreRefusedCleanlyAndResumeWhenSpaceReturns(
      String dirOnSmallDisk, Vertx vertx, @TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    JsonObject config =
        TestNode.config(
            "n1",
            data,
            new JsonObject().put("storage", new JsonObject().put("minFreeBytes", 8 * MIB)));
    int port = config.getJsonObject("http").getInteger("port");
    try (Tmpfs disk = Tmpfs.mount(data.resolve(dirOnSmallDisk), 24 * MIB);
        JarProcess node = CrashRecoveryIT.startNode(dir, config);
        Api api = new Api(vertx, port, 4)) {
      Random random = new Random(5);
      Map<String, byte[]> acked = new HashMap<>();
      int refused = 0;
      boolean settled = false;
      // Admission counts what each write may cost, so the first 507s can come a little early and
      // a fresh reading may let a few more in; writing goes on until every write is refused and
      // the node has reported not ready across a few readings (0.5 s apart).
      for (int i = 0; i < 400 && !settled; i++) {
        byte[] value = new byte[VALUE_BYTES];
        random.nextBytes(value);
        HttpResponse<Buffer> r = api.put("/kv/fill-" + i, value, "application/octet-stream");
        if (r.statusCode() == 201) {
          acked.put("fill-" + i, value);
        } else {
          assertEquals(507, r.statusCode(), r.bodyAsString());
          assertEquals("insufficient_storage", r.bodyAsJsonObject().getString("error"));
          assertEquals("1", r.getHeader("Retry-After"));
          refused++;
          settled = notReadyThroughout(api, 1500);
        }
      }
      assertTrue(refused > 0 && settled, "the floor was reached within 400 writes of 256 KiB");
      assertFalse(acked.isEmpty(), "writes were acknowledged before the floor");
      long size = api.ledgerSize();
      HttpProbe probe = new HttpProbe("http://127.0.0.1:" + port);
      JsonObject ready = api.get("/health/ready").bodyAsJsonObject();
      assertTrue(ready.getString("reason", "").contains("storage.minFreeBytes"), ready.encode());
      assertEquals(507, api.put("/kv/refused", "x").statusCode(), "still refused below the floor");
      assertEquals(size, api.ledgerSize(), "a refused write changes nothing");
      assertAllPresent(api, acked); // reads go on

      disk.resize(256 * MIB);
      probe.awaitStatus("/health/ready", 200, 10_000);
      HttpResponse<Buffer> after = api.put("/kv/after", "space is back");
      assertEquals(201, after.statusCode(), after.bodyAsString());
      assertEquals(size + 1, after.bodyAsJsonObject().getLong("index"));
      assertAllPresent(api, acked);
      assertTrue(node.isAlive(), "the node never stopped");
    }
  }

  @Test
  void withoutTheFloorTheApplyThatHitsEnospcFailsStopAndTheRestartLosesNothing(
      Vertx vertx, @TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    JsonObject config =
        TestNode.config(
            "n1", data, new JsonObject().put("storage", new JsonObject().put("minFreeBytes", 0)));
    int port = config.getJsonObject("http").getInteger("port");
    Map<String, byte[]> acked = new HashMap<>();
    Map<String, Long> ackedIndex = new HashMap<>();
    History history = new History();
    try (Tmpfs disk = Tmpfs.mount(data.resolve("segments"), 6 * MIB)) {
      try (JarProcess node = CrashRecoveryIT.startNode(dir, config);
          Api api = new Api(vertx, port, 4)) {
        Random random = new Random(7);
        boolean stopped = false;
        for (int i = 0; i < 100 && !stopped; i++) {
          byte[] value = new byte[VALUE_BYTES];
          random.nextBytes(value);
          HttpResponse<Buffer> r;
          long start = System.nanoTime();
          try {
            r = api.put("/kv/fill-" + i, value, "application/octet-stream");
          } catch (RuntimeException connectionGone) {
            break; // the node exited under the request
          }
          history.wrote("fill-" + i, start, r);
          if (r.statusCode() == 201) {
            acked.put("fill-" + i, value);
            ackedIndex.put("fill-" + i, r.bodyAsJsonObject().getLong("index"));
          } else {
            assertTrue(
                r.statusCode() == 503,
                "a write it could not store is never 2xx: " + r.statusCode());
            stopped = true;
          }
        }
        assertEquals(
            3, node.awaitExit(30_000), "exit code of a fail-stop; stderr: " + node.stderr());
        assertTrue(
            node.stdout().contains("failed stop while applying Raft entry"),
            "one ERROR line says why: " + node.stdout());
      }
      assertFalse(acked.isEmpty(), "writes were acknowledged before the disk filled");

      disk.resize(256 * MIB);
      try (JarProcess restarted = CrashRecoveryIT.startNode(dir, config);
          Api api = new Api(vertx, port, 4)) {
        assertAllPresent(api, acked);
        for (Map.Entry<String, Long> e : ackedIndex.entrySet()) {
          assertEquals(
              Long.toString(e.getValue()),
              api.get("/kv/" + e.getKey()).getHeader("X-Ledger-Index"),
              e.getKey() + " keeps the index of its receipt");
        }
        history.assertNoFork(api, api.get("/ledger/head").bodyAsJsonObject());
        HttpResponse<Buffer> next = api.put("/kv/after-restart", "n");
        assertEquals(201, next.statusCode(), next.bodyAsString());
        assertTrue(restarted.isAlive());
      }
    }
  }

  /** Whether readiness answers 503 on every poll for {@code ms} (false at the first 200). */
  static boolean notReadyThroughout(Api api, long ms) {
    long deadline = System.currentTimeMillis() + ms;
    do {
      if (api.get("/health/ready").statusCode() != 503) {
        return false;
      }
    } while (System.currentTimeMillis() < deadline);
    return true;
  }

  static void assertAllPresent(Api api, Map<String, byte[]> acked) {
    for (Map.Entry<String, byte[]> e : acked.entrySet()) {
      HttpResponse<Buffer> r =
          api.send(HttpMethod.GET, "/kv/" + e.getKey(), null, MultiMap.caseInsensitiveMultiMap());
      assertEquals(200, r.statusCode(), e.getKey() + ": " + r.bodyAsString());
      assertArrayEquals(e.getValue(), r.body().getBytes(), e.getKey());
    }
  }
}
