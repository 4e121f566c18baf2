package io.scribeledger.cli;

import io.scribeledger.ledger.SegmentReplay;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.tier.ArchiveReader;
import io.scribeledger.tier.S3Archive;
import io.scribeledger.verify.EntryCheck.Failed;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code scribe restore}: rebuilds a node's data directory from the archive alone, every segment
 * checked against its Merkle root and the heads a pinned key signed; a new cluster whose nodes are
 * each restored this way starts with the archived history (docs/TIERING.md, "Disaster recovery").
 */
@Command(
    name = "restore",
    mixinStandardHelpOptions = true,
    description = "Rebuilds a data directory from an S3 archive, verified against signed heads.")
final class RestoreCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Mixin ArchiveOptions s3;

  @Mixin ArchiveTrust trust;

  @Option(names = "--cluster", description = "the cluster id every signed head must name")
  String cluster;

  @Option(names = "--from", required = true, description = "the archive, s3://bucket/prefix")
  String from;

  @Option(
      names = "--data-dir",
      required = true,
      description = "the node's new data directory (must be empty or absent)")
  Path dataDir;

  @Option(
      names = "--segment-size",
      defaultValue = "67108864",
      description = "the node's storage.segmentSizeBytes (default ${DEFAULT-VALUE})")
  long segmentSize;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean existed = Files.exists(dataDir);
    try {
      if (existed && !isEmptyDirectory(dataDir)) {
        err.println(
            "scribe restore: " + dataDir + " is not empty: a restore only fills a new directory");
        return ScribeCli.UNREACHABLE;
      }
    } catch (IOException e) {
      err.println("scribe restore: " + e.getMessage());
      return ScribeCli.UNREACHABLE;
    }
    long started = System.nanoTime();
    try (S3Archive archive = s3.open(from)) {
      ArchiveReader.Trust check = trust.trust(cluster);
      ArchiveReader.Result result;
      try (SegmentReplay replay = new SegmentReplay(dataDir, segmentSize)) {
        result =
            ArchiveReader.walk(
                archive,
                dataDir.resolve("restore-work"),
                check,
                (m, file) -> replay.segment(m.segment(), m.object(), file));
        if (!java.security.MessageDigest.isEqual(replay.root(), result.root())) {
          throw new Failed("the rebuilt ledger's root differs from the archive's signed root");
        }
      }
      deleteTree(dataDir.resolve("restore-work"));
      out.printf(
          "restored %d entries from %d segments into %s in %.1f s; root %s, signed by %s%n",
          result.entries(),
          result.segments(),
          dataDir,
          (System.nanoTime() - started) / 1e9,
          Hashes.hex(result.root()),
          ArchiveTrust.signer(result.lastSigned()));
      if (result.latest().isPresent() && result.latest().get().treeSize() > result.entries()) {
        out.printf(
            "NOT ARCHIVED: entries %d..%d (the newest head the leader published has %d entries);"
                + " they are not in this restore%n",
            result.entries() + 1,
            result.latest().get().treeSize(),
            result.latest().get().treeSize());
      } else {
        out.println("everything the newest published head covers was archived");
      }
      return 0;
    } catch (Failed e) {
      err.println("RESTORE FAILED: " + e.getMessage());
      cleanUp(existed);
      return ScribeCli.FAILED;
    } catch (IOException | RuntimeException e) {
      err.println("scribe restore: " + e.getMessage());
      cleanUp(existed);
      return ScribeCli.UNREACHABLE;
    }
  }

  private static boolean isEmptyDirectory(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.findAny().isEmpty();
    }
  }

  /** A failed restore leaves no half-built directory a node could start from. */
  private void cleanUp(boolean existed) {
    try {
      if (existed) {
        try (Stream<Path> files = Files.list(dataDir)) {
          for (Path f : (Iterable<Path>) files::iterator) {
            deleteTree(f);
          }
        }
      } else {
        deleteTree(dataDir);
      }
    } catch (IOException e) {
      spec.commandLine()
          .getErr()
          .println("could not remove the partial restore in " + dataDir + ": " + e.getMessage());
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
