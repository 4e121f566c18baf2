package io.scribeledger.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A node stopped and started on the same data directory has every version and history back. */
@ExtendWith(VertxExtension.class)
class RestartTest {

  @Test
  void everyVersionAndHistorySurvivesARestart(Vertx vertx, @TempDir Path dir) {
    // A small segment size makes the data span several segment files.
    JsonObject config =
        TestNode.config(
            "n1",
            dir,
            new JsonObject()
                .put(
                    "storage",
                    new JsonObject().put("segmentSizeBytes", 4096).put("commitEveryEntries", 7)));
    JsonObject historyBefore;
    JsonObject lastReceipt;
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      for (int i = 0; i < 50; i++) {
        api.put("/kv/key-" + (i % 10), "value-" + i + "-" + "x".repeat(i * 10));
      }
      api.delete("/kv/key-3");
      lastReceipt = api.put("/kv/last", "last").bodyAsJsonObject();
      historyBefore = api.get("/history/key-3").bodyAsJsonObject();
    }
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      assertEquals(historyBefore, api.get("/history/key-3").bodyAsJsonObject());
      for (int i = 0; i < 50; i++) {
        int version = i / 10 + 1;
        assertEquals(
            "value-" + i + "-" + "x".repeat(i * 10),
            api.get("/kv/key-" + (i % 10) + "?version=" + version).bodyAsString(),
            "key-" + (i % 10) + " v" + version);
      }
      assertEquals(404, api.get("/kv/key-3").statusCode());
      assertEquals(lastReceipt.getLong("index"), api.ledgerSize());
      JsonObject next = api.put("/kv/after-restart", "n").bodyAsJsonObject();
      assertEquals(
          lastReceipt.getLong("index") + 1,
          next.getLong("index"),
          "indices continue without a gap");
      assertEquals("last", api.get("/kv/last").bodyAsString());
    }
  }

  @Test
  void aDamagedIndexWithoutASnapshotIsRebuiltByReplayingTheWholeRaftLog(
      Vertx vertx, @TempDir Path dir) throws Exception {
    JsonObject config =
        TestNode.config(
            "n1",
            dir,
            new JsonObject().put("storage", new JsonObject().put("segmentSizeBytes", 4096)));
    JsonObject head;
    JsonObject history;
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      for (int i = 0; i < 60; i++) {
        api.put("/kv/key-" + (i % 10), "value-" + i + "-" + "x".repeat(i * 10));
      }
      head = api.get("/ledger/head").bodyAsJsonObject();
      history = api.get("/history/key-3").bodyAsJsonObject();
    }
    // A stop takes a snapshot; a node killed before its first one has none. Its log is whole.
    io.scribeledger.support.Trees.deleteRaftSnapshots(dir);
    io.scribeledger.support.Trees.damageMapDb(dir.resolve("state.mapdb"));
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      api.awaitApplied(head.getLong("treeSize"), 10_000);
      JsonObject after = api.get("/ledger/head").bodyAsJsonObject();
      assertEquals(head.getString("rootHash"), after.getString("rootHash"), after::encode);
      assertEquals(head.getLong("treeSize"), after.getLong("treeSize"));
      assertEquals(history, api.get("/history/key-3").bodyAsJsonObject());
      assertTrue(Files.exists(dir.resolve("damaged-index/state.mapdb")), "kept for a post-mortem");
      assertEquals(
          head.getLong("treeSize") + 1,
          api.put("/kv/after", "n").bodyAsJsonObject().getLong("index"),
          "indices continue without a gap");
    }
  }
}
