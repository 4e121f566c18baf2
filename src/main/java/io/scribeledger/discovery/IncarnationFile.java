package io.scribeledger.discovery;

import io.scribeledger.storage.Directories;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How far this node's incarnations are reserved, kept in its data directory: a restart must be
 * newer than anything the run before it used (the others ignore an older incarnation's news and
 * datagrams), even when the wall clock it normally starts from stepped back in between. A block is
 * reserved before any incarnation in it is used, so a kill between a refutation and its record
 * cannot lose one.
 */
final class IncarnationFile {

  /**
   * Incarnations reserved at a time: a run refutes a handful of suspicions; small, since every
   * restart starts after the block (ahead of the clock by at most this many milliseconds).
   */
  static final long BLOCK = 100;

  private final Path file;

  IncarnationFile(Path dataDir) {
    this.file = dataDir.resolve("discovery.incarnation");
  }

  /**
   * The incarnation to start at — the wall clock's milliseconds, or the first after the reserved
   * block when that is higher — with a block from it reserved before it is returned. A file that
   * does not hold a number is overwritten.
   */
  Reservation start(long wallMs) throws IOException {
    long start = Math.max(wallMs, reserved() + 1);
    return new Reservation(start, reserveFrom(start));
  }

  /** The incarnation to start at, and the last one reserved with it. */
  record Reservation(long start, long upTo) {}

  /** Reserves the block from {@code incarnation}; returns the last incarnation reserved. */
  long reserveFrom(long incarnation) throws IOException {
    long upTo = Math.addExact(incarnation, BLOCK);
    Files.createDirectories(file.toAbsolutePath().getParent());
    Directories.replaceDurably(file, Long.toString(upTo).getBytes(StandardCharsets.US_ASCII));
    return upTo;
  }

  private long reserved() throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      return 0; // not ours (a write is atomic): the clock decides, and the file is rewritten
    }
  }
}
