package io.scribeledger.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Hard links between the live data directory and snapshots. Segments, the entry index and the
 * Merkle node file only grow at their end, so a snapshot can share them instead of copying: it
 * records how far each one reached, and a restore cuts them back to that length.
 */
public final class HardLinks {

  private HardLinks() {}

  /**
   * Makes {@code link} a second name of {@code existing}; a copy where the file system has no hard
   * links.
   */
  public static void link(Path existing, Path link) throws IOException {
    try {
      Files.createLink(link, existing);
    } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
      Files.copy(existing, link);
    }
  }

  /**
   * Makes {@code target} name the file {@code source} names. The old {@code target} is unlinked,
   * not overwritten: a snapshot that shares it keeps its bytes.
   */
  public static void replace(Path source, Path target) throws IOException {
    if (Files.exists(target) && Files.isSameFile(source, target)) {
      return;
    }
    Files.deleteIfExists(target);
    link(source, target);
  }
}
