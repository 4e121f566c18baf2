package io.scribeledger.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.Await;
import io.scribeledger.support.EmbeddedS3;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.threadchecker.BlockedThreadEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The S3 cold tier against a real S3 server in this JVM (S3Proxy, filesystem blob store): sealed
 * segments archived once, recorded through Raft on every node, evicted, and read back verified; an
 * outage that never stops writes; a damaged object refused, never served.
 */
@ExtendWith(VertxExtension.class)
class TieringTest {

  /** Small segments (4 KiB) so that a few dozen writes seal several. */
  static JsonObject overrides(EmbeddedS3 s3, Path dir, String prefix) throws Exception {
    return new JsonObject()
        .put("storage", new JsonObject().put("segmentSizeBytes", 4096))
        .put("tiering", s3.tiering(dir, prefix));
  }

  /**
   * Event loops must never block on S3 work: a low execute-time bound, and every blocked-thread
   * event on an event loop is recorded (the test fails on any).
   */
  static final VertxOptions STRICT =
      new VertxOptions()
          .setMaxEventLoopExecuteTime(300)
          .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
          .setBlockedThreadCheckInterval(50);

  static List<String> watchEventLoops(TestNode node) {
    List<String> blocked = new CopyOnWriteArrayList<>();
    ((VertxInternal) node.vertx())
        .blockedThreadChecker()
        .setThreadBlockedHandler(
            (BlockedThreadEvent e) -> {
              if (e.thread().getName().contains("eventloop")) {
                blocked.add(e.toString());
              }
            });
    return blocked;
  }

  static JsonArray segments(Api api) {
    return api.get("/segments").bodyAsJsonObject().getJsonArray("segments");
  }

  static long count(JsonArray segments, java.util.function.Predicate<JsonObject> p) {
    return segments.stream().map(JsonObject.class::cast).filter(p).count();
  }

  /** The replicated part of {@code /segments}: without what differs per node. */
  static JsonArray manifest(JsonArray segments) {
    JsonArray out = new JsonArray();
    segments.forEach(
        s -> {
          JsonObject copy = ((JsonObject) s).copy();
          copy.remove("onThisNode");
          out.add(copy);
        });
    return out;
  }

  static Path segmentsDir(TestNode node) {
    return Path.of(node.config().getJsonObject("node").getString("dataDir")).resolve("segments");
  }

  static String value(int i) {
    return "value-" + i + "-" + "v".repeat(300);
  }

  @Test
  void sealedSegmentsAreArchivedOnceEvictedAndReadBackVerifiedOnEveryNode(
      Vertx vertx, @TempDir Path dir) throws Exception {
    try (EmbeddedS3 s3 = EmbeddedS3.start(dir.resolve("s3"))) {
      List<JsonObject> configs = TestCluster.configs(dir, 3, overrides(s3, dir, "c1"));
      List<TestNode> nodes = new ArrayList<>();
      List<List<String>> blocked = new ArrayList<>();
      try {
        nodes.addAll(TestCluster.start(configs, STRICT));
        nodes.forEach(n -> blocked.add(watchEventLoops(n)));
        List<Api> apis = new ArrayList<>();
        nodes.forEach(n -> apis.add(new Api(vertx, n.httpPort(), 8)));
        Api leader = apis.get(apis.get(0).leaderNumber() - 1);
        for (int i = 0; i < 60; i++) {
          assertEquals(201, leader.put("/kv/k" + i, value(i)).statusCode());
        }
        long size = leader.ledgerSize();
        // Every node's manifest shows the sealed segments archived, and evicted but the newest.
        for (int n = 0; n < apis.size(); n++) {
          Api api = apis.get(n);
          Await.until(
              "segments are archived and evicted on node n" + (n + 1),
              30_000,
              () -> {
                JsonArray segs = segments(api);
                return segs.size() >= 4
                    && count(segs, s -> "archived".equals(s.getString("tier"))) == segs.size()
                    && count(segs, s -> !s.getBoolean("onThisNode")) >= segs.size() - 1;
              });
        }
        JsonArray segs = segments(leader);
        // One object per segment, each the one the manifest names: no orphan, no duplicate.
        S3AsyncClient client = s3.client();
        List<String> objects = new ArrayList<>();
        client
            .listObjectsV2(b -> b.bucket(EmbeddedS3.BUCKET).prefix("c1/segments/"))
            .join()
            .contents()
            .forEach(o -> objects.add(o.key()));
        List<String> recorded = new ArrayList<>();
        segs.forEach(s -> recorded.add(((JsonObject) s).getString("objectKey")));
        assertEquals(recorded.stream().sorted().toList(), objects.stream().sorted().toList());
        for (Api api : apis) {
          assertEquals(manifest(segs), manifest(segments(api)), "every node's manifest");
        }
        // Reads of evicted entries come back from the archive, checked, on every node.
        for (Api api : apis) {
          for (int i : new int[] {0, 7, 30}) {
            HttpResponse<io.vertx.core.buffer.Buffer> got =
                api.get("/kv/k" + i + "?consistency=stale");
            assertEquals(200, got.statusCode(), got::bodyAsString);
            assertEquals(value(i), got.bodyAsString());
          }
          JsonObject verified = api.get("/verify/k3").bodyAsJsonObject();
          assertTrue(verified.getBoolean("verified"), verified::encode);
          JsonObject page = api.get("/ledger/entries?from=1&limit=1000").bodyAsJsonObject();
          assertEquals(size, page.getJsonArray("entries").size());
          assertEquals(200, api.get("/history/k5").statusCode());
          // The metric is the tiering round's count: it reaches the manifest's by the next round.
          Await.until(
              "the metrics count every archived segment",
              30_000,
              () ->
                  Long.valueOf(segs.size())
                      .equals(
                          api.get("/metrics")
                              .bodyAsJsonObject()
                              .getJsonObject("segments")
                              .getLong("archived")));
        }
        client.close();
        for (List<String> b : blocked) {
          assertTrue(b.isEmpty(), () -> "event loops blocked: " + b);
        }
        apis.forEach(Api::close);
      } finally {
        nodes.forEach(TestNode::close);
      }
    }
  }

  static JsonObject tiering(Api api) {
    return api.get("/cluster/status").bodyAsJsonObject().getJsonObject("tiering");
  }

  @Test
  void anS3OutageNeverStopsWritesAndTheLagIsReportedThenDrains(Vertx vertx, @TempDir Path dir)
      throws Exception {
    try (EmbeddedS3 s3 = EmbeddedS3.start(dir.resolve("s3"))) {
      JsonObject overrides = overrides(s3, dir, "outage");
      overrides.getJsonObject("tiering").put("maxLagSegments", 2);
      try (TestNode node = TestNode.start(TestNode.config("n1", dir.resolve("n1"), overrides));
          Api api = new Api(vertx, node.httpPort(), 8)) {
        s3.stop();
        for (int i = 0; i < 60; i++) {
          assertEquals(201, api.put("/kv/k" + i, value(i)).statusCode(), "write " + i);
        }
        Await.until(
            "the lag passes its bound, and the failure is reported",
            20_000,
            () -> tiering(api).getLong("lagSegments") > 2 && tiering(api).containsKey("lastError"));
        JsonObject lag = tiering(api);
        assertTrue(lag.getLong("lagBytes") > 3 * 4096, lag::encode);
        JsonObject health = api.get("/health").bodyAsJsonObject();
        assertEquals("degraded", health.getString("status"), health::encode);
        assertTrue(health.getJsonObject("tiering").containsKey("degraded"), health::encode);
        // Writes go on while the store is away.
        assertEquals(201, api.put("/kv/during", "still written").statusCode());

        s3.resume();
        Await.until("the lag drains", 30_000, () -> tiering(api).getLong("lagSegments") == 0);
        assertEquals("ok", api.get("/health").bodyAsJsonObject().getString("status"));
        Await.until(
            "old segments are evicted",
            10_000,
            () -> count(segments(api), seg -> !seg.getBoolean("onThisNode")) >= 3);
        for (int i = 0; i < 60; i += 7) {
          assertEquals(value(i), api.get("/kv/k" + i).bodyAsString());
        }
      }
    }
  }

  @Test
  void aDamagedArchivedObjectIsRefusedAndReportedNeverServed(Vertx vertx, @TempDir Path dir)
      throws Exception {
    try (EmbeddedS3 s3 = EmbeddedS3.start(dir.resolve("s3"));
        TestNode node =
            TestNode.start(TestNode.config("n1", dir.resolve("n1"), overrides(s3, dir, "dmg")));
        Api api = new Api(vertx, node.httpPort(), 8)) {
      for (int i = 0; i < 60; i++) {
        assertEquals(201, api.put("/kv/k" + i, value(i)).statusCode());
      }
      Await.until(
          "segments are archived and evicted",
          20_000,
          () -> {
            JsonArray segs = segments(api);
            return segs.size() >= 4 && count(segs, seg -> !seg.getBoolean("onThisNode")) >= 3;
          });
      JsonObject first = segments(api).getJsonObject(0);
      Path object = s3.bucketDir().resolve(first.getString("objectKey"));
      assertTrue(Files.isRegularFile(object), "the blob store keeps " + object);
      byte[] bytes = Files.readAllBytes(object);
      bytes[bytes.length / 2] ^= 0x01;
      Files.write(object, bytes);

      HttpResponse<io.vertx.core.buffer.Buffer> refused = api.get("/kv/k0");
      assertEquals(503, refused.statusCode(), refused::bodyAsString);
      assertTrue(refused.bodyAsString().contains("integrity check"), refused::bodyAsString);
      // Other keys, in other archived segments and on disk, still work.
      long second = segments(api).getJsonObject(1).getLong("firstIndex");
      JsonObject entries =
          api.get("/ledger/entries?from=" + second + "&limit=1").bodyAsJsonObject();
      String otherKey = entries.getJsonArray("entries").getJsonObject(0).getString("key");
      assertEquals(200, api.get("/kv/" + otherKey).statusCode());
      assertEquals(value(59), api.get("/kv/k59").bodyAsString());

      JsonObject scrub =
          api.send(io.vertx.core.http.HttpMethod.POST, "/admin/scrub", null, null)
              .bodyAsJsonObject();
      assertFalse(scrub.getBoolean("clean"), scrub::encode);
      assertTrue(
          scrub.getJsonArray("problems").encode().contains("segment " + first.getLong("id")),
          scrub::encode);
      assertEquals(1, scrub.getJsonArray("problems").size(), scrub::encode);
      assertEquals("degraded", api.get("/health").bodyAsJsonObject().getString("status"));
    }
  }

  @Test
  void aSegmentDamagedOnTheLeadersDiskIsNeverArchived(Vertx vertx, @TempDir Path dir)
      throws Exception {
    try (EmbeddedS3 s3 = EmbeddedS3.start(dir.resolve("s3"))) {
      JsonObject config = TestNode.config("n1", dir.resolve("n1"), overrides(s3, dir, "rot"));
      try (TestNode node = TestNode.start(config);
          Api api = new Api(vertx, node.httpPort(), 8)) {
        s3.stop(); // nothing is uploaded while the damage is made
        for (int i = 0; i < 40; i++) {
          assertEquals(201, api.put("/kv/k" + i, value(i)).statusCode());
        }
        // An attempt that failed on the missing store: the next one checks the file again.
        Await.until(
            "an upload attempt fails",
            10_000,
            () ->
                segments(api).size() >= 3
                    && tiering(api).getString("lastError", "").contains("uploading segment 1"));
        Path first = segmentsDir(node).resolve(String.format("seg-%020d.log", 1));
        byte[] bytes = Files.readAllBytes(first);
        bytes[bytes.length - 10] ^= 0x01; // inside the last record's value
        Files.write(first, bytes);
        s3.resume();
        Await.until(
            "the intact segments are archived",
            30_000,
            () -> count(segments(api), seg -> "archived".equals(seg.getString("tier"))) >= 2);
        JsonObject one = segments(api).getJsonObject(0);
        assertEquals("local", one.getString("tier"), one::encode);
        assertTrue(one.getBoolean("onThisNode"), "never evicted");
        assertTrue(
            tiering(api).getString("lastError", "").contains("does not match the manifest")
                || tiering(api).getLong("lagSegments") >= 1,
            () -> tiering(api).encode());
        try (S3AsyncClient client = s3.client()) {
          assertTrue(
              client
                  .listObjectsV2(
                      b ->
                          b.bucket(EmbeddedS3.BUCKET)
                              .prefix("rot/segments/0000000000000000000" + "1-"))
                  .join()
                  .contents()
                  .isEmpty(),
              "the damaged segment was not uploaded");
        }
      }
    }
  }
}
