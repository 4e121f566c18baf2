package io.scribeledger.support;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.merkle.Hashes;
import io.scribeledger.verify.MerkleVerifier;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * What clients saw, with real-time start and end of every operation, and the checks a ledger owes
 * them: acknowledged writes take indices in real-time order, a linearizable read never returns an
 * older version than one acknowledged before it began, and every tree a node claimed is a prefix of
 * the final one (one history, never two).
 */
public final class History {

  /** An acknowledged write of {@code key} at {@code index}, with the tree it claimed. */
  public record Write(
      String key, long startNanos, long endNanos, long index, long treeSize, String root) {}

  /** A linearizable read of {@code key} that answered the entry at {@code index} (0: not found). */
  public record Read(String key, long startNanos, long endNanos, long index) {}

  private final ConcurrentLinkedQueue<Write> writes = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Read> reads = new ConcurrentLinkedQueue<>();

  /** Records a PUT's response if it was acknowledged (201). */
  public void wrote(String key, long startNanos, HttpResponse<Buffer> response) {
    if (response.statusCode() == 201) {
      JsonObject receipt = response.bodyAsJsonObject();
      writes.add(
          new Write(
              key,
              startNanos,
              System.nanoTime(),
              receipt.getLong("index"),
              receipt.getLong("treeSize"),
              receipt.getString("rootHash")));
    }
  }

  /** Records a linearizable GET's response if it answered (200 or 404). */
  public void read(String key, long startNanos, HttpResponse<Buffer> response) {
    if (response.statusCode() == 200) {
      reads.add(
          new Read(
              key,
              startNanos,
              System.nanoTime(),
              Long.parseLong(response.getHeader("X-Ledger-Index"))));
    } else if (response.statusCode() == 404) {
      reads.add(new Read(key, startNanos, System.nanoTime(), 0));
    }
  }

  public List<Write> writes() {
    return new ArrayList<>(writes);
  }

  public int reads() {
    return reads.size();
  }

  /**
   * A write acknowledged before another began has the lower index; a read never answers an entry
   * older than a write of its key acknowledged before the read began.
   */
  public void assertLinearizable() {
    List<Write> byEnd = new ArrayList<>(writes);
    byEnd.sort(Comparator.comparingLong(Write::endNanos));
    List<Write> byStart = new ArrayList<>(writes);
    byStart.sort(Comparator.comparingLong(Write::startNanos));
    long maxFinished = 0;
    Write maxWrite = null;
    int e = 0;
    for (Write w : byStart) {
      while (e < byEnd.size() && byEnd.get(e).endNanos() < w.startNanos()) {
        if (byEnd.get(e).index() > maxFinished) {
          maxFinished = byEnd.get(e).index();
          maxWrite = byEnd.get(e);
        }
        e++;
      }
      assertTrue(
          w.index() > maxFinished,
          w + " began after " + maxWrite + " was acknowledged, yet got a lower index");
    }
    Map<String, List<Write>> byKey = new HashMap<>();
    writes.forEach(w -> byKey.computeIfAbsent(w.key(), k -> new ArrayList<>()).add(w));
    for (Read r : reads) {
      for (Write w : byKey.getOrDefault(r.key(), List.of())) {
        if (w.endNanos() < r.startNanos()) {
          assertTrue(
              r.index() >= w.index(),
              r + " returned an older entry than " + w + ", acknowledged before the read began");
        }
      }
    }
  }

  /**
   * Every tree size and root a receipt claimed is consistent with {@code head} (a node's current
   * {@code /ledger/head}), proved with that node's consistency proofs and checked by the pure-Java
   * verifier; two receipts never claim two roots for one size.
   */
  public void assertNoFork(Api api, JsonObject head) {
    Map<Long, String> bySize = new HashMap<>();
    long size = head.getLong("treeSize");
    byte[] root = Hashes.fromHex(head.getString("rootHash"));
    for (Write w : writes) {
      String earlier = bySize.putIfAbsent(w.treeSize(), w.root());
      assertTrue(
          earlier == null || earlier.equals(w.root()), "two roots for tree size " + w.treeSize());
    }
    for (Map.Entry<Long, String> claimed : bySize.entrySet()) {
      long first = claimed.getKey();
      if (first > size) {
        throw new AssertionError(
            "a receipt claimed tree size " + first + " beyond the head " + size);
      }
      if (first == size) {
        assertTrue(
            claimed.getValue().equals(head.getString("rootHash")),
            "two roots for tree size " + size);
        continue;
      }
      List<byte[]> path = new ArrayList<>();
      {
        JsonArray hashes =
            api.get("/ledger/consistency?first=" + first + "&second=" + size)
                .bodyAsJsonObject()
                .getJsonArray("proof");
        for (int i = 0; i < hashes.size(); i++) {
          path.add(Hashes.fromHex(hashes.getString(i)));
        }
      }
      assertTrue(
          MerkleVerifier.verifyConsistency(
              first, size, Hashes.fromHex(claimed.getValue()), root, path),
          "the tree of size "
              + first
              + " a receipt claimed is a prefix of the tree of size "
              + size);
    }
  }
}
