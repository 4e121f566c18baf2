package io.scribeledger.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.scribeledger.support.Api;
import io.scribeledger.support.TestNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Concurrent writers get unique, gap-free ledger indices and every value is readable. */
@ExtendWith(VertxExtension.class)
class ConcurrentWritesTest {

  @Test
  void fourHundredWritesOverThirtyTwoConnections(Vertx vertx, @TempDir Path dir) throws Exception {
    try (TestNode node = TestNode.start(TestNode.config("n1", dir, new JsonObject()));
        Api api = new Api(vertx, node.httpPort(), 32)) {
      int writes = 400;
      List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
      for (int i = 0; i < writes; i++) {
        responses.add(
            api.request(HttpMethod.PUT, "/kv/concurrent-" + i)
                .sendBuffer(Buffer.buffer("value-" + i)));
      }
      Future.all(responses).await(120, TimeUnit.SECONDS);
      TreeSet<Long> indices = new TreeSet<>();
      for (int i = 0; i < writes; i++) {
        HttpResponse<Buffer> r = responses.get(i).result();
        assertEquals(201, r.statusCode(), r.bodyAsString());
        JsonObject receipt = r.bodyAsJsonObject();
        assertEquals("concurrent-" + i, receipt.getString("key"));
        indices.add(receipt.getLong("index"));
      }
      assertEquals(writes, indices.size(), "indices are unique");
      assertEquals(1, indices.first());
      assertEquals(writes, indices.last(), "indices are gap-free");
      for (int i = 0; i < writes; i++) {
        assertEquals("value-" + i, api.get("/kv/concurrent-" + i).bodyAsString());
      }
      assertEquals(writes, api.ledgerSize());
    }
  }

  @Test
  void conditionalWritesPackedTogetherAreEachDecidedOnTheirOwn(Vertx vertx, @TempDir Path dir)
      throws Exception {
    try (TestNode node = TestNode.start(TestNode.config("n1", dir, new JsonObject()));
        Api api = new Api(vertx, node.httpPort(), 32)) {
      List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        responses.add(
            api.request(HttpMethod.PUT, "/kv/only-once")
                .putHeader("If-None-Match", "*")
                .sendBuffer(Buffer.buffer("attempt-" + i)));
      }
      Future.join(new ArrayList<>(responses)).await(60, TimeUnit.SECONDS);
      long created = responses.stream().filter(r -> r.result().statusCode() == 201).count();
      long refused = responses.stream().filter(r -> r.result().statusCode() == 412).count();
      assertEquals(1, created, "exactly one conditional create wins");
      assertEquals(49, refused, "every other one is refused with 412");
      assertEquals(1, api.ledgerSize(), "refused writes appended nothing");
    }
  }

  @Test
  void linearizableReadsInterleavedWithWritesAllAnswerAndNeverStopTheLedger(
      Vertx vertx, @TempDir Path dir) throws Exception {
    // Ratis completes read barriers on its apply thread; a next barrier launched from there can
    // break
    // its read queue (reads hang) or the apply thread itself (writes hang). The race is
    // timing-bound
    // (seen under wrk in bench/run.sh, not reliably here): this checks the mix keeps answering.
    try (TestNode node = TestNode.start(TestNode.config("n1", dir, new JsonObject()));
        Api api = new Api(vertx, node.httpPort(), 64)) {
      api.put("/kv/hot", "0");
      for (int round = 0; round < 5; round++) {
        List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
          responses.add(
              i % 4 == 0
                  ? api.request(HttpMethod.PUT, "/kv/hot")
                      .sendBuffer(Buffer.buffer(round + "." + i))
                  : api.request(HttpMethod.GET, "/kv/hot").send());
        }
        Future.all(responses).await(30, TimeUnit.SECONDS);
        for (Future<HttpResponse<Buffer>> r : responses) {
          int status = r.result().statusCode();
          assertEquals(
              true,
              status == 200 || status == 201,
              "round " + round + ": " + status + " " + r.result().bodyAsString());
        }
      }
      assertEquals(1 + 5 * 100, api.ledgerSize());
      assertEquals(201, api.put("/kv/after", "still writing").statusCode());
    }
  }
}
