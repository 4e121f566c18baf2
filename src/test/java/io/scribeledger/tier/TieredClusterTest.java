package io.scribeledger.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.Await;
import io.scribeledger.support.EmbeddedS3;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The cold tier in a three-node group: a leader lost in the middle of an upload leaves one object
 * per segment and no orphan; a follower that installs a snapshot whose segments were evicted reads
 * them back from the archive.
 */
@ExtendWith(VertxExtension.class)
class TieredClusterTest {

  static List<String> keys(S3AsyncClient client, String prefix) {
    List<String> keys = new ArrayList<>();
    client
        .listObjectsV2(b -> b.bucket(EmbeddedS3.BUCKET).prefix(prefix))
        .join()
        .contents()
        .forEach(o -> keys.add(o.key()));
    return keys;
  }

  static void writeAll(Api api, String prefix, int count, String filler) throws Exception {
    List<Future<HttpResponse<Buffer>>> writes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      writes.add(
          api.request(HttpMethod.PUT, "/kv/" + prefix + i).sendBuffer(Buffer.buffer(i + filler)));
    }
    Future.all(writes).await(120, TimeUnit.SECONDS);
    writes.forEach(w -> assertEquals(201, w.result().statusCode()));
  }

  @Test
  void aLeaderLostMidUploadLeavesOneObjectPerSegmentAndNoOrphan(Vertx vertx, @TempDir Path dir)
      throws Exception {
    try (EmbeddedS3 s3 = EmbeddedS3.start(dir.resolve("s3"))) {
      JsonObject overrides =
          new JsonObject()
              .put("storage", new JsonObject().put("segmentSizeBytes", 26L << 20))
              .put("limits", new JsonObject().put("maxValueBytes", 65536))
              .put("tiering", s3.tiering(dir, "fo").put("compression", "none"));
      List<JsonObject> configs = TestCluster.configs(dir, 3, overrides);
      List<TestNode> nodes = new ArrayList<>(TestCluster.start(configs));
      List<Api> apis = new ArrayList<>();
      try {
        nodes.forEach(n -> apis.add(new Api(vertx, n.httpPort(), 16)));
        int leader = apis.get(0).leaderNumber() - 1;
        // 27 MB: one 26 MiB segment sealed, uploaded in six parts.
        writeAll(apis.get(leader), "big-", 460, "z".repeat(60_000));
        S3AsyncClient client = s3.client();
        long deadline = System.currentTimeMillis() + 30_000;
        // Polled without a pause: the upload lasts a moment only.
        while (client
            .listMultipartUploads(b -> b.bucket(EmbeddedS3.BUCKET).prefix("fo/"))
            .join()
            .uploads()
            .isEmpty()) {
          assertTrue(System.currentTimeMillis() < deadline, "no upload was seen under way");
        }
        nodes.get(leader).close(); // mid-upload: some parts sent, the upload never completed
        apis.get(leader).close();
        int survivor = (leader + 1) % 3;
        Await.until(
            "a new leader archives the segment",
            60_000,
            () -> {
              // 503 while the survivors elect a leader: not yet, rather than a failure.
              JsonObject body = apis.get(survivor).get("/segments").bodyAsJsonObject();
              JsonArray segs = body == null ? null : body.getJsonArray("segments");
              return segs != null
                  && !segs.isEmpty()
                  && segs.stream()
                      .map(JsonObject.class::cast)
                      .allMatch(s -> "archived".equals(s.getString("tier")));
            });
        nodes.set(leader, TestNode.start(configs.get(leader)));
        apis.set(leader, new Api(vertx, nodes.get(leader).httpPort(), 16));
        JsonArray segments = TieringTest.segments(apis.get(survivor));
        Await.until(
            "no incomplete upload is left",
            20_000,
            () ->
                client
                    .listMultipartUploads(b -> b.bucket(EmbeddedS3.BUCKET).prefix("fo/"))
                    .join()
                    .uploads()
                    .isEmpty());
        List<String> recorded = new ArrayList<>();
        segments.forEach(s -> recorded.add(((JsonObject) s).getString("objectKey")));
        assertEquals(recorded, keys(client, "fo/segments/"), "one object per segment, no orphan");
        Await.until(
            "one manifest object per segment",
            10_000,
            () -> keys(client, "fo/manifest/").size() == segments.size());
        for (Api api : apis) {
          Await.until(
              "every node has the same manifest",
              30_000,
              () ->
                  TieringTest.manifest(TieringTest.segments(api))
                      .equals(TieringTest.manifest(segments)));
        }
        client.close();
      } finally {
        apis.forEach(Api::close);
        nodes.forEach(TestNode::close);
      }
    }
  }

  @Test
  void aFollowerInstallingASnapshotReadsEvictedSegmentsFromTheArchive(
      Vertx vertx, @TempDir Path dir) throws Exception {
    try (EmbeddedS3 s3 = EmbeddedS3.start(dir.resolve("s3"))) {
      JsonObject overrides =
          io.scribeledger.cluster.SnapshotInstallTest.SMALL
              .copy()
              .put("tiering", s3.tiering(dir, "si"));
      List<JsonObject> configs = TestCluster.configs(dir, 3, overrides);
      List<TestNode> nodes = new ArrayList<>(TestCluster.start(configs));
      List<Api> apis = new ArrayList<>();
      try {
        nodes.forEach(n -> apis.add(new Api(vertx, n.httpPort(), 16)));
        int leader = apis.get(0).leaderNumber() - 1;
        int follower = (leader + 1) % 3;
        writeAll(apis.get(leader), "early-", 10, "e");
        nodes.get(follower).close();
        apis.get(follower).close();
        writeAll(apis.get(leader), "away-", 700, "x".repeat(4096));
        Await.until(
            "the leader evicts archived segments",
            30_000,
            () ->
                TieringTest.count(
                        TieringTest.segments(apis.get(leader)), s -> !s.getBoolean("onThisNode"))
                    >= 5);
        long size = apis.get(leader).ledgerSize();
        nodes.set(follower, TestNode.start(configs.get(follower)));
        apis.set(follower, new Api(vertx, nodes.get(follower).httpPort(), 16));
        apis.get(follower).awaitApplied(size, 90_000);
        JsonObject snapshots =
            apis.get(follower).get("/metrics").bodyAsJsonObject().getJsonObject("snapshots");
        assertTrue(snapshots.getLong("installed") >= 1, snapshots::encode);
        assertEquals("3e", apis.get(follower).get("/kv/early-3?consistency=stale").bodyAsString());
        assertEquals(
            417 + "x".repeat(4096),
            apis.get(follower).get("/kv/away-417?consistency=stale").bodyAsString());
        assertEquals(
            apis.get(leader).get("/ledger/head").bodyAsJsonObject().getString("rootHash"),
            apis.get(follower).get("/ledger/head").bodyAsJsonObject().getString("rootHash"));
      } finally {
        apis.forEach(Api::close);
        nodes.forEach(TestNode::close);
      }
    }
  }
}
