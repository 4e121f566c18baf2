import io.scribeledger.merkle.Hashes;
import io.scribeledger.merkle.MerkleTree;
import io.scribeledger.storage.MerkleNodeFile;
import io.scribeledger.verify.MerkleVerifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Merkle tree cost at scale, on the node's real store (the append-only node file, synced every 1000
 * appends as the state machine's commits do): per-append tree cost, then per-proof cost at the
 * final size.
 *
 * <p>Run after {@code mvn -B package -DskipTests}: {@code java -cp target/scribe-ledger.jar
 * bench/ProofBench.java 1000000}
 */
public class ProofBench {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int proofs = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    Path dir = Files.createTempDirectory("proofbench");
    try (MerkleNodeFile nodes = new MerkleNodeFile(dir.resolve("merkle.nodes"), 0)) {
      MerkleTree tree = new MerkleTree(nodes);
      Random random = new Random(1);
      byte[] leaf = new byte[32];
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        random.nextBytes(leaf);
        tree.append(i, Hashes.leafHash(leaf));
        if (i % 1000 == 999) {
          nodes.sync();
        }
      }
      nodes.sync();
      double appendUs = (System.nanoTime() - start) / 1e3 / n;
      System.out.printf(
          "tree appends: %d leaves, %.2f us per append (hashes + node file appends + batched syncs)%n",
          n, appendUs);

      long t = System.nanoTime();
      byte[] root = tree.root(n);
      System.out.printf("root of %d leaves: %.1f us%n", n, (System.nanoTime() - t) / 1e3);

      long totalPath = 0;
      t = System.nanoTime();
      for (int i = 0; i < proofs; i++) {
        long m = Math.floorMod(random.nextLong(), n);
        List<byte[]> path = tree.inclusionProof(m, n);
        totalPath += path.size();
        if (i < 100 && !MerkleVerifier.verifyInclusion(m, n, tree.rangeHash(m, 1), path, root)) {
          throw new IllegalStateException("proof failed to verify");
        }
      }
      System.out.printf(
          "inclusion proofs at size %d: %.1f us each (avg %.1f hashes)%n",
          n, (System.nanoTime() - t) / 1e3 / proofs, (double) totalPath / proofs);

      t = System.nanoTime();
      for (int i = 0; i < proofs; i++) {
        long first = 1 + Math.floorMod(random.nextLong(), n - 1);
        tree.consistencyProof(first, n);
      }
      System.out.printf(
          "consistency proofs to size %d: %.1f us each%n",
          n, (System.nanoTime() - t) / 1e3 / proofs);

      t = System.nanoTime();
      for (int i = 0; i < proofs; i++) {
        long m = Math.floorMod(random.nextLong(), n);
        MerkleVerifier.verifyInclusion(m, n, tree.rangeHash(m, 1), tree.inclusionProof(m, n), root);
      }
      System.out.printf(
          "proof + client-side verification: %.1f us each%n",
          (System.nanoTime() - t) / 1e3 / proofs);
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
