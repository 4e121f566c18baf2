package io.scribeledger.discovery;

import io.scribeledger.storage.Directories;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The highest incarnation this node has used, kept in its data directory: a restart must be newer
 * than the run before it (the others ignore an older incarnation's news, and a sequence window
 * keyed to it), even when the wall clock it normally starts from stepped back in between.
 */
final class IncarnationFile {

  private final Path file;

  IncarnationFile(Path dataDir) {
    this.file = dataDir.resolve("discovery.incarnation");
  }

  /**
   * The incarnation to start at: the wall clock's milliseconds, or one past the highest recorded
   * when that is not lower; recorded before it is used.
   */
  long start(long wallMs) throws IOException {
    long start = Math.max(wallMs, recorded() + 1);
    record(start);
    return start;
  }

  /** Records {@code incarnation} as the highest used (a refutation raised it). */
  void record(long incarnation) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Directories.replaceDurably(
        file, Long.toString(incarnation).getBytes(StandardCharsets.US_ASCII));
  }

  private long recorded() throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IOException(file + " does not hold an incarnation number", e);
    }
  }
}
