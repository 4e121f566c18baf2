package io.scribeledger.cli;

import io.scribeledger.ledger.SegmentReplay;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.storage.Directories;
import io.scribeledger.tier.ArchiveReader;
import io.scribeledger.tier.S3Archive;
import io.scribeledger.verify.EntryCheck.Failed;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
    Path target = dataDir.toAbsolutePath().normalize();
    try {
      if (!Directories.isEmpty(target)) {
        err.println(
            "scribe restore: " + target + " is not empty: a restore only fills a new directory");
        return ScribeCli.UNREACHABLE;
      }
    } catch (IOException e) {
      err.println("scribe restore: " + e.getMessage());
      return ScribeCli.UNREACHABLE;
    }
    // Built beside the target and renamed into place only when complete: a restore cut short (an
    // error, a kill, out of memory) never leaves a directory a node could start from.
    Path building = target.resolveSibling(target.getFileName() + ".restoring");
    boolean done = false;
    long started = System.nanoTime();
    try (S3Archive archive = s3.open(from)) {
      deleteTree(building); // left by a restore that was killed
      ArchiveReader.Trust check = trust.trust(cluster);
      ArchiveReader.Result result;
      try (SegmentReplay replay = new SegmentReplay(building.resolve("data"), segmentSize)) {
        result =
            ArchiveReader.walk(
                archive,
                building.resolve("work"),
                s3.maxSegmentBytes,
                check,
                (m, file) -> replay.segment(m.segment(), m.object(), file));
        if (!java.security.MessageDigest.isEqual(replay.root(), result.root())) {
          throw new Failed("the rebuilt ledger's root differs from the archive's signed root");
        }
        replay.finish();
      }
      Files.deleteIfExists(target); // empty, checked above
      Files.move(building.resolve("data"), target, StandardCopyOption.ATOMIC_MOVE);
      done = true;
      out.printf(
          "restored %d entries from %d segments into %s in %.1f s; root %s, signed by %s%n",
          result.entries(),
          result.segments(),
          target,
          (System.nanoTime() - started) / 1e9,
          Hashes.hex(result.root()),
          ArchiveTrust.signer(result.lastSigned()));
      if (result.latest().isEmpty()) {
        out.println(ArchiveTrust.NO_LATEST_HEAD);
      } else if (result.latest().get().treeSize() > result.entries()) {
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
      return ScribeCli.FAILED;
    } catch (IOException | RuntimeException e) {
      err.println("scribe restore: " + e.getMessage());
      return ScribeCli.UNREACHABLE;
    } finally {
      try {
        deleteTree(building);
      } catch (IOException e) {
        err.println("could not remove " + building + ": " + e.getMessage());
      }
      if (!done) {
        err.println("nothing was restored into " + target);
      }
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
