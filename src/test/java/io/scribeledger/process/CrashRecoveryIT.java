package io.scribeledger.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.HttpProbe;
import io.scribeledger.support.JarProcess;
import io.scribeledger.support.TestNode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of the node process loses no acknowledged write. */
@ExtendWith(VertxExtension.class)
class CrashRecoveryIT {

  @SuppressWarnings("ArrayRecordComponent") // compared with assertArrayEquals
  record Acked(long index, byte[] value) {}

  static JarProcess startNode(Path work, JsonObject config) {
    JarProcess p = JarProcess.start(work, config, Map.of());
    String url = "http://127.0.0.1:" + config.getJsonObject("http").getInteger("port");
    try {
      new HttpProbe(url).awaitStatus("/health", 200, 60_000);
    } catch (IllegalStateException e) {
      throw new IllegalStateException(
          e.getMessage() + "; stderr: " + p.stderr() + " stdout: " + p.stdout(), e);
    }
    return p;
  }

  static byte[] randomValue(Random random) {
    byte[] v = new byte[1 + random.nextInt(2048)];
    random.nextBytes(v);
    return v;
  }

  /** As {@link #assertAllPresent(Api, Map)}; a failure quotes the node's errors, for a rare one. */
  static void assertAllPresent(Api api, Map<String, Acked> acked, JarProcess node) {
    try {
      assertAllPresent(api, acked);
    } catch (AssertionError e) {
      String errors =
          (node.stdout() + node.stderr())
              .lines()
              .filter(l -> l.contains(" ERROR ") || l.contains("failed stop"))
              .limit(20)
              .collect(java.util.stream.Collectors.joining("\n"));
      throw new AssertionError(e.getMessage() + "\nthe node's errors:\n" + errors, e);
    }
  }

  static void assertAllPresent(Api api, Map<String, Acked> acked) {
    for (Map.Entry<String, Acked> e : acked.entrySet()) {
      var r = api.get("/kv/" + e.getKey());
      assertEquals(200, r.statusCode(), e.getKey() + ": " + r.bodyAsString());
      assertArrayEquals(e.getValue().value(), r.body().getBytes(), e.getKey());
      assertEquals(Long.toString(e.getValue().index()), r.getHeader("X-Ledger-Index"), e.getKey());
    }
  }

  @Test
  void thousandAcknowledgedWritesSurviveKillNine(Vertx vertx, @TempDir Path dir) throws Exception {
    JsonObject config = TestNode.config("n1", dir.resolve("data"), new JsonObject());
    Map<String, Acked> acked = new ConcurrentHashMap<>();
    Random random = new Random(11);
    JarProcess node = startNode(dir, config);
    try (Api api = new Api(vertx, config.getJsonObject("http").getInteger("port"), 16)) {
      writeAll(api, random, "crash-", 1000, acked);
      assertEquals(1000, acked.size(), "all 1000 writes acknowledged before the kill");
      node.kill();
    } finally {
      node.close();
    }
    // Below its disk floor the restarted node does not snapshot its ledger as opened: it says so,
    // replays the Raft log after its last snapshot (none here) and loses nothing.
    JsonObject floorAboveTheDisk = config.copy();
    floorAboveTheDisk.put(
        "storage",
        config.getJsonObject("storage", new JsonObject()).copy().put("minFreeBytes", 1L << 50));
    JarProcess belowFloor = startNode(dir, floorAboveTheDisk);
    try (Api api = new Api(vertx, config.getJsonObject("http").getInteger("port"), 16)) {
      assertAllPresent(api, acked);
      assertEquals(1000, api.ledgerSize());
      assertEquals(0, snapshots(api).getLong("taken"), "no snapshot below the floor");
      assertTrue(
          belowFloor.stdout().contains("no snapshot of the ledger as opened"), belowFloor.stdout());
      belowFloor.kill();
    } finally {
      belowFloor.close();
    }
    // With room, a restart after kill -9 resumes at its last checkpoint: one snapshot of the ledger
    // as opened, at a Raft index it has applied, and every write still there.
    JarProcess restarted = startNode(dir, config);
    try (Api api = new Api(vertx, config.getJsonObject("http").getInteger("port"), 16)) {
      assertAllPresent(api, acked);
      assertEquals(1000, api.ledgerSize());
      JsonObject snapshots = snapshots(api);
      assertEquals(1, snapshots.getLong("taken"), snapshots::encode);
      assertTrue(snapshots.getLong("lastIndex") > 0, snapshots::encode);
      assertTrue(
          restarted.stdout().contains("(the ledger as opened: Raft resumes after it)"),
          restarted.stdout());
      JsonObject next = api.put("/kv/after-resume", "n").bodyAsJsonObject();
      assertEquals(1001, next.getLong("index"), next::encode);
    } finally {
      restarted.close();
    }
  }

  /** The node's snapshot counters ({@code /metrics}: taken, lastIndex, …). */
  private static JsonObject snapshots(Api api) {
    return api.get("/metrics").bodyAsJsonObject().getJsonObject("snapshots");
  }

  @Test
  void aNodeThatLostItsIndexAfterKillNineRestoresFromItsSnapshotsAndReplaysTheRest(
      Vertx vertx, @TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    JsonObject config =
        TestNode.config(
            "n1",
            data,
            new JsonObject()
                .put("raft", new JsonObject().put("snapshotEveryEntries", 20))
                .put("storage", new JsonObject().put("segmentSizeBytes", 256 * 1024)));
    int port = config.getJsonObject("http").getInteger("port");
    Map<String, Acked> acked = new ConcurrentHashMap<>();
    String root;
    JarProcess node = startNode(dir, config);
    try (Api api = new Api(vertx, port, 16)) {
      writeAll(api, new Random(5), "snap-", 1000, acked);
      assertEquals(1000, acked.size());
      JsonObject metrics = api.get("/metrics").bodyAsJsonObject();
      assertTrue(metrics.getJsonObject("snapshots").getLong("taken") >= 2, metrics::encode);
      assertTrue(
          api.get("/segments").bodyAsJsonObject().getJsonArray("segments").size() >= 2,
          "some sealed segments");
      root = api.get("/ledger/head").bodyAsJsonObject().getString("rootHash");
      node.kill();
    } finally {
      node.close();
    }
    // The snapshots share the live files; a kill -9 leaves them longer than the last checkpoint,
    // and
    // the restart cuts them back only to that checkpoint, which no snapshot reaches past.
    JarProcess restarted = startNode(dir, config);
    try (Api api = new Api(vertx, port, 16)) {
      assertAllPresent(api, acked);
      assertEquals(root, api.get("/ledger/head").bodyAsJsonObject().getString("rootHash"));
      restarted.kill();
    } finally {
      restarted.close();
    }
    try (var files = java.nio.file.Files.list(data)) {
      for (Path f :
          (Iterable<Path>)
              files.filter(p -> p.getFileName().toString().startsWith("state.mapdb"))::iterator) {
        java.nio.file.Files.delete(f); // the index is lost
      }
    }
    JarProcess rebuilt = startNode(dir, config);
    try (Api api = new Api(vertx, port, 16)) {
      assertAllPresent(api, acked);
      assertEquals(1000, api.ledgerSize());
      assertEquals(root, api.get("/ledger/head").bodyAsJsonObject().getString("rootHash"));
      JsonObject proof = api.get("/verify/snap-417").bodyAsJsonObject();
      assertTrue(proof.getBoolean("verified"), proof::encode);
      assertEquals(1001, api.put("/kv/after-restore", "n").bodyAsJsonObject().getLong("index"));
      assertTrue(
          rebuilt.stdout().contains("the ledger index was behind the latest snapshot"),
          rebuilt.stdout());
    } finally {
      rebuilt.close();
    }
  }

  @Test
  void killWhileWritesAreInFlightLosesNoAcknowledgedWrite(Vertx vertx, @TempDir Path dir)
      throws Exception {
    JsonObject config = TestNode.config("n1", dir.resolve("data"), new JsonObject());
    Map<String, Acked> acked = new ConcurrentHashMap<>();
    JarProcess node = startNode(dir, config);
    int port = config.getJsonObject("http").getInteger("port");
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger sequence = new AtomicInteger();
    CountDownLatch enoughAcked = new CountDownLatch(500);
    try (Api api = new Api(vertx, port, 16)) {
      List<Future<Void>> writers = new ArrayList<>();
      for (int w = 0; w < 16; w++) {
        Promise<Void> done = Promise.promise();
        writers.add(done.future());
        writeLoop(api, new Random(w), sequence, acked, enoughAcked, stop, done);
      }
      assertTrue(enoughAcked.await(120, TimeUnit.SECONDS), "writes are being acknowledged");
      node.kill();
      stop.set(true);
      Future.join(new ArrayList<>(writers)).await(60, TimeUnit.SECONDS);
    } finally {
      node.close();
    }
    int sent = sequence.get();
    assertTrue(
        sent > acked.size(), "some writes were in flight when the node died (sent " + sent + ")");
    JarProcess restarted = startNode(dir, config);
    try (Api api = new Api(vertx, port, 16)) {
      assertAllPresent(api, acked, restarted);
      long size = api.ledgerSize();
      long maxAcked = acked.values().stream().mapToLong(Acked::index).max().orElse(0);
      assertTrue(size >= maxAcked, "ledger size " + size + " covers every acknowledged index");
      assertTrue(size <= sent, "nothing appears that was never sent");
      JsonObject next = api.put("/kv/after-crash", "n").bodyAsJsonObject();
      assertEquals(size + 1, next.getLong("index"), "indices continue without a gap");
    } finally {
      restarted.close();
    }
  }

  /**
   * {@code count} concurrent PUTs of random values to {@code prefix}0.., recording the acknowledged
   * ones.
   */
  private static void writeAll(
      Api api, Random random, String prefix, int count, Map<String, Acked> acked) throws Exception {
    List<Future<?>> writes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String key = prefix + i;
      byte[] value = randomValue(random);
      writes.add(
          api.request(HttpMethod.PUT, "/kv/" + key)
              .sendBuffer(Buffer.buffer(value))
              .onSuccess(
                  r -> {
                    if (r.statusCode() == 201) {
                      acked.put(key, new Acked(r.bodyAsJsonObject().getLong("index"), value));
                    }
                  }));
    }
    Future.join(writes).await(120, TimeUnit.SECONDS);
  }

  /**
   * One writer: PUT after PUT until told to stop; connection errors after the kill end the loop.
   */
  private static void writeLoop(
      Api api,
      Random random,
      AtomicInteger sequence,
      Map<String, Acked> acked,
      CountDownLatch enoughAcked,
      AtomicBoolean stop,
      Promise<Void> done) {
    if (stop.get()) {
      done.tryComplete();
      return;
    }
    String key = "inflight-" + sequence.incrementAndGet();
    byte[] value = randomValue(random);
    api.request(HttpMethod.PUT, "/kv/" + key)
        .sendBuffer(Buffer.buffer(value))
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result().statusCode() == 201) {
                acked.put(key, new Acked(ar.result().bodyAsJsonObject().getLong("index"), value));
                enoughAcked.countDown();
                writeLoop(api, random, sequence, acked, enoughAcked, stop, done);
              } else if (ar.failed() || stop.get()) {
                done.tryComplete();
              } else {
                writeLoop(api, random, sequence, acked, enoughAcked, stop, done);
              }
            });
  }
}
