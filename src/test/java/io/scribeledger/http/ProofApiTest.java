package io.scribeledger.http;

import static io.scribeledger.support.Assertions2.assertError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.ledger.CanonicalEntry;
import io.scribeledger.ledger.Op;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.merkle.MemoryNodeStore;
import io.scribeledger.merkle.MerkleTree;
import io.scribeledger.support.Api;
import io.scribeledger.support.Await;
import io.scribeledger.support.TestNode;
import io.scribeledger.verify.MerkleVerifier;
import io.scribeledger.verify.TreeHead;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the verification routes serve checks out with the pure verifier, before and after a restart.
 */
@ExtendWith(VertxExtension.class)
class ProofApiTest {

  static JsonObject smallSegments() {
    return new JsonObject()
        .put(
            "storage", new JsonObject().put("segmentSizeBytes", 4096).put("commitIntervalMs", 100));
  }

  static TreeHead head(JsonObject h) {
    return new TreeHead(
        h.getInteger("version"),
        h.getString("clusterId"),
        h.getLong("treeSize"),
        Hashes.fromHex(h.getString("rootHash")),
        h.getLong("timestamp"),
        h.getString("nodeId"),
        Base64.getDecoder().decode(h.getString("signature")),
        Base64.getDecoder().decode(h.getString("publicKey")));
  }

  static List<byte[]> hashes(JsonArray a) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      out.add(Hashes.fromHex(a.getString(i)));
    }
    return out;
  }

  /** Everything a client checks of a /verify answer, with the key the node published. */
  static void assertVerifies(JsonObject proof, String key, byte[] publishedKey) {
    assertTrue(proof.getBoolean("verified"));
    JsonObject entry = proof.getJsonObject("entry");
    Op op = Op.valueOf(entry.getString("op"));
    byte[] leaf =
        new CanonicalEntry(
                entry.getLong("index"),
                entry.getLong("timestamp"),
                op,
                key,
                entry.getString("contentType"),
                Hashes.fromHex(entry.getString("valueSha256")))
            .leafHash();
    assertEquals(
        Hashes.hex(leaf), entry.getString("leafHash"), "leaf hash from the entry's fields");
    JsonObject inclusion = proof.getJsonObject("inclusion");
    TreeHead head = head(proof.getJsonObject("treeHead"));
    assertTrue(head.signatureValid(publishedKey), "head signed by the published key");
    assertEquals(head.treeSize(), inclusion.getLong("treeSize"));
    assertEquals(entry.getLong("index") - 1, inclusion.getLong("leafIndex"));
    assertTrue(
        MerkleVerifier.verifyInclusion(
            inclusion.getLong("leafIndex"),
            head.treeSize(),
            leaf,
            hashes(inclusion.getJsonArray("auditPath")),
            head.rootHash()),
        "inclusion in the signed tree");
    JsonObject segment = proof.getJsonObject("segment");
    if (segment != null) {
      long first = segment.getLong("firstIndex");
      assertTrue(
          MerkleVerifier.verifyInclusion(
              entry.getLong("index") - first,
              segment.getLong("lastIndex") - first + 1,
              leaf,
              hashes(segment.getJsonArray("auditPath")),
              Hashes.fromHex(segment.getString("merkleRoot"))),
          "inclusion in the segment");
    }
  }

  static byte[] publishedKey(Api api) {
    JsonObject me =
        api.get("/cluster/members").bodyAsJsonObject().getJsonArray("members").getJsonObject(0);
    return Base64.getDecoder().decode(me.getString("publicKey"));
  }

  @Test
  void servedProofsCheckOutAndSurviveARestart(Vertx vertx, @TempDir Path dir) {
    JsonObject config = TestNode.config("n1", dir, smallSegments());
    List<JsonObject> receipts = new ArrayList<>();
    JsonObject oldHead;
    JsonObject oldProof;
    byte[] key;
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      key = publishedKey(api);
      for (int i = 0; i < 60; i++) {
        receipts.add(
            api.put("/kv/p" + (i % 17), "value " + i + " " + "z".repeat(200)).bodyAsJsonObject());
      }
      api.delete("/kv/p3");
      JsonObject head = api.get("/ledger/head").bodyAsJsonObject();
      assertTrue(head(head).signatureValid(key));
      assertEquals(61, head.getLong("treeSize"));

      // Receipts' roots are the roots of the tree at their size.
      for (JsonObject r : receipts) {
        JsonObject c =
            api.get("/ledger/consistency?first=" + r.getLong("treeSize") + "&second=61")
                .bodyAsJsonObject();
        assertEquals(r.getString("rootHash"), c.getString("firstRoot"));
        assertEquals(head.getString("rootHash"), c.getString("secondRoot"));
        assertTrue(
            MerkleVerifier.verifyConsistency(
                r.getLong("treeSize"),
                61,
                Hashes.fromHex(r.getString("rootHash")),
                Hashes.fromHex(head.getString("rootHash")),
                hashes(c.getJsonArray("proof"))));
      }

      // A root computed by the client from /ledger/entries equals the signed head's.
      MerkleTree mine = new MerkleTree(new MemoryNodeStore());
      JsonArray entries = new JsonArray();
      for (long from = 1; from <= 61; from += 25) {
        entries.addAll(
            api.get("/ledger/entries?from=" + from + "&limit=25")
                .bodyAsJsonObject()
                .getJsonArray("entries"));
      }
      assertEquals(61, entries.size());
      for (int i = 0; i < entries.size(); i++) {
        JsonObject e = entries.getJsonObject(i);
        assertEquals(i + 1, e.getLong("index"));
        byte[] leaf =
            new CanonicalEntry(
                    e.getLong("index"),
                    e.getLong("timestamp"),
                    Op.valueOf(e.getString("op")),
                    e.getString("key"),
                    e.getString("contentType"),
                    Hashes.fromHex(e.getString("valueSha256")))
                .leafHash();
        assertEquals(Hashes.hex(leaf), e.getString("leafHash"));
        mine.append(i, leaf);
      }
      assertEquals(head.getString("rootHash"), Hashes.hex(mine.root(61)));

      // Sealed segments tile the ledger and their roots are the roots of their leaves.
      JsonArray segments = api.get("/segments").bodyAsJsonObject().getJsonArray("segments");
      assertTrue(segments.size() >= 2, segments::encode);
      long expectFirst = 1;
      for (int i = 0; i < segments.size(); i++) {
        JsonObject s = segments.getJsonObject(i);
        assertEquals(expectFirst, s.getLong("firstIndex"));
        long count = s.getLong("lastIndex") - s.getLong("firstIndex") + 1;
        assertEquals(
            Hashes.hex(mine.rangeHash(s.getLong("firstIndex") - 1, count)),
            s.getString("merkleRoot"));
        assertEquals("local", s.getString("tier"));
        expectFirst = s.getLong("lastIndex") + 1;
      }

      // Every key verifies, including the tombstone and old versions; early entries carry a segment
      // proof.
      for (int k = 0; k < 17; k++) {
        assertVerifies(api.get("/verify/p" + k).bodyAsJsonObject(), "p" + k, key);
        assertVerifies(api.get("/verify/p" + k + "?version=1").bodyAsJsonObject(), "p" + k, key);
      }
      assertEquals(
          "DELETE",
          api.get("/verify/p3").bodyAsJsonObject().getJsonObject("entry").getString("op"));
      assertNotNull(api.get("/verify/p0?version=1").bodyAsJsonObject().getJsonObject("segment"));
      oldHead = head;
      oldProof = api.get("/verify/p5?version=1").bodyAsJsonObject();
    }
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      assertArrayEquals(key, publishedKey(api), "the node key survives a restart");
      api.put("/kv/after-restart", "x");
      JsonObject head = api.get("/ledger/head").bodyAsJsonObject();
      assertTrue(head(head).signatureValid(key));
      JsonObject c =
          api.get("/ledger/consistency?first=61&second=" + head.getLong("treeSize"))
              .bodyAsJsonObject();
      assertTrue(
          MerkleVerifier.verifyConsistency(
              61,
              head.getLong("treeSize"),
              Hashes.fromHex(oldHead.getString("rootHash")),
              Hashes.fromHex(head.getString("rootHash")),
              hashes(c.getJsonArray("proof"))),
          "the old head is a prefix");
      // The proof served before the restart still verifies against the head it came with.
      assertVerifies(oldProof, "p5", key);
      JsonObject again = api.get("/verify/p5?version=1").bodyAsJsonObject();
      assertEquals(oldProof.getJsonObject("entry"), again.getJsonObject("entry"));
      assertVerifies(again, "p5", key);
    }
  }

  @Test
  void anOldActiveSegmentIsSealedWithoutFurtherWrites(Vertx vertx, @TempDir Path dir) {
    JsonObject config =
        TestNode.config(
            "n1",
            dir,
            new JsonObject()
                .put(
                    "storage",
                    new JsonObject().put("segmentMaxAgeMs", 300).put("commitIntervalMs", 100)));
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      for (int i = 0; i < 3; i++) {
        api.put("/kv/aged-" + i, "v" + i);
      }
      // Sealed by age alone: no write follows the three. One segment when the writes took less
      // than 300 ms; on a slow machine a seal may fall between them, so the check is that every
      // entry ends up sealed, in segments that follow each other from the first entry.
      Await.until(
          "the active segment is sealed once its first entry is older than 300 ms",
          10_000,
          () -> {
            JsonArray sealed = api.get("/segments").bodyAsJsonObject().getJsonArray("segments");
            return !sealed.isEmpty()
                && sealed.getJsonObject(sealed.size() - 1).getLong("lastIndex") == 3;
          });
      JsonArray segments = api.get("/segments").bodyAsJsonObject().getJsonArray("segments");
      long next = 1;
      for (int i = 0; i < segments.size(); i++) {
        assertEquals(next, segments.getJsonObject(i).getLong("firstIndex"), segments::encode);
        next = segments.getJsonObject(i).getLong("lastIndex") + 1;
      }
      assertEquals(4, next, segments::encode);
    }
  }

  @Test
  void badParametersAreRefused(Vertx vertx, @TempDir Path dir) {
    try (TestNode node = TestNode.start(TestNode.config("n1", dir, new JsonObject()));
        Api api = new Api(vertx, node.httpPort())) {
      for (int i = 0; i < 5; i++) {
        api.put("/kv/b" + i, "v");
      }
      long size = api.ledgerSize();
      for (String q :
          new String[] {
            "first=3&second=2",
            "first=0&second=2",
            "first=1&second=" + (size + 1),
            "first=1",
            "second=2",
            "first=a&second=2",
            "first=1&second=2&third=3",
            "first=-1&second=2"
          }) {
        assertError(api.get("/ledger/consistency?" + q), 400, "invalid_request");
      }
      for (String q :
          new String[] {
            "from=0", "limit=1001", "limit=0", "from=" + (size + 2), "from=x", "size=3"
          }) {
        assertError(api.get("/ledger/entries?" + q), 400, "invalid_request");
      }
      assertEquals(
          0,
          api.get("/ledger/entries?from=" + (size + 1))
              .bodyAsJsonObject()
              .getJsonArray("entries")
              .size(),
          "the next index to come is an empty page, so a tailing reader can poll it");
      assertError(api.get("/verify/b1?version=0"), 400, "invalid_request");
      assertError(api.get("/verify/b1?version=9"), 404, "not_found");
      assertError(api.get("/verify/never"), 404, "not_found");
      assertError(api.get("/verify/a%00b"), 400, "invalid_key");
      assertError(api.get("/ledger/head?x=1"), 400, "invalid_request");
      assertError(
          api.send(io.vertx.core.http.HttpMethod.POST, "/ledger/head", null, null),
          405,
          "method_not_allowed");
      assertError(
          api.send(io.vertx.core.http.HttpMethod.GET, "/admin/scrub", null, null),
          405,
          "method_not_allowed");
      JsonObject equal = api.get("/ledger/consistency?first=3&second=3").bodyAsJsonObject();
      assertEquals(0, equal.getJsonArray("proof").size());
      assertNull(
          api.get("/verify/b1").bodyAsJsonObject().getValue("segment"),
          "the active segment is not sealed yet");
      assertFalse(api.get("/segments").bodyAsJsonObject().getJsonArray("segments").size() > 0);
      assertEquals(size, api.ledgerSize(), "refused requests appended nothing");
    }
  }
}
