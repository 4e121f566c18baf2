package io.scribeledger.merkle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.scribeledger.support.Rfc6962Vectors;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The incremental tree reproduces RFC 6962's reference roots and the recursive definition. */
class MerkleTreeTest {

  static final Path VECTORS = Rfc6962Vectors.dir();

  @Test
  void reproducesEveryRootOfTheReferenceTree() throws IOException {
    JsonObject tree = new JsonObject(Files.readString(VECTORS.resolve("tree.json")));
    JsonArray inputs = tree.getJsonArray("leafInputs");
    JsonArray roots = tree.getJsonArray("roots");
    MerkleTree merkle = new MerkleTree(new MemoryNodeStore());
    assertEquals(roots.getString(0), Hashes.hex(merkle.root(0)));
    for (int i = 0; i < inputs.size(); i++) {
      merkle.append(i, Hashes.leafHash(Hashes.fromHex(inputs.getString(i))));
      assertEquals(
          roots.getString(i + 1), Hashes.hex(merkle.root(i + 1)), "root of " + (i + 1) + " leaves");
    }
  }

  @Test
  void everyPrefixRootMatchesTheRecursiveDefinition() {
    Random random = new Random(42);
    List<byte[]> leaves = new ArrayList<>();
    MemoryNodeStore nodes = new MemoryNodeStore();
    MerkleTree merkle = new MerkleTree(nodes);
    for (int i = 0; i < 300; i++) {
      byte[] leaf = new byte[32];
      random.nextBytes(leaf);
      leaves.add(leaf);
      assertEquals(
          Hashes.hex(reference(leaves)),
          Hashes.hex(merkle.append(i, leaf)),
          "root returned by append " + i);
    }
    // A new appender over the same stored nodes (a restart) picks the peaks up from the store.
    MerkleTree reopened = new MerkleTree(nodes.copy());
    byte[] extra = new byte[32];
    List<byte[]> withExtra = new ArrayList<>(leaves);
    withExtra.add(extra);
    assertEquals(Hashes.hex(reference(withExtra)), Hashes.hex(reopened.append(300, extra)));
    for (int n = 0; n <= leaves.size(); n++) {
      assertEquals(
          Hashes.hex(reference(leaves.subList(0, n))), Hashes.hex(merkle.root(n)), "size " + n);
    }
    // Complete subtrees only: at most 2n - 1 nodes, so storage stays linear.
    assertEquals(2 * 300 - Integer.bitCount(300), nodes.size());
  }

  @Test
  void rootOfASizeNotYetAppendedFails() {
    MerkleTree merkle = new MerkleTree(new MemoryNodeStore());
    merkle.append(0, new byte[32]);
    assertThrows(IllegalStateException.class, () -> merkle.root(2));
  }

  /** RFC 9162 §2.1.1, written the slow recursive way as an independent check. */
  static byte[] reference(List<byte[]> leaves) {
    if (leaves.isEmpty()) {
      return Hashes.emptyRoot();
    }
    if (leaves.size() == 1) {
      return leaves.get(0);
    }
    int k = Integer.highestOneBit(leaves.size() - 1);
    return Hashes.nodeHash(
        reference(leaves.subList(0, k)), reference(leaves.subList(k, leaves.size())));
  }
}
