package io.scribeledger.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Directory operations: fsync (a file that was created, renamed or linked survives a power loss
 * only once its directory entry is on disk too, which syncing the file itself does not promise:
 * POSIX), emptying a directory of work files, and asking whether one is empty.
 */
public final class Directories {

  private Directories() {}

  /** Forces {@code dir}'s entries (names created, renamed or linked in it) to disk. */
  public static void sync(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /** Deletes the files directly in {@code dir}, if it exists (work files a stopped run left). */
  public static void clear(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.delete(f);
      }
    }
  }

  /** Whether {@code dir} is absent or holds nothing. */
  public static boolean isEmpty(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return true;
    }
    try (var files = Files.list(dir)) {
      return files.findAny().isEmpty();
    }
  }
}
