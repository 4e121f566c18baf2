package io.scribeledger.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Directory trees in tests: what a crash leaves on disk, or what Ratis ships to a follower. */
public final class Trees {

  private Trees() {}

  /**
   * Copies every file under {@code from} to the same place under {@code to}: plain copies, never
   * links.
   */
  public static void copy(Path from, Path to) throws IOException {
    try (var files = Files.walk(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
  }

  /** Deletes {@code root} and everything under it, if it exists. */
  public static void delete(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var files = Files.walk(root)) {
      for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }

  /**
   * What a kill at the wrong moment can leave of a MapDB store: up to 64 KiB after its header
   * zeroed, so that its catalogue of collections cannot be read back.
   */
  public static void damageMapDb(Path file) throws IOException {
    long length = Files.size(file);
    try (var ch =
        java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[(int) Math.min(length - 64, 1 << 16)]), 64);
    }
  }

  /**
   * Deletes every Raft snapshot of the node whose data directory is {@code dataDir}: what a node
   * killed before its first snapshot has (a stop takes one).
   */
  public static void deleteRaftSnapshots(Path dataDir) throws IOException {
    try (var files = Files.walk(dataDir.resolve("raft"))) {
      for (Path f :
          files.filter(f -> f.getParent().getFileName().toString().equals("sm")).toList()) {
        delete(f);
      }
    }
  }
}
