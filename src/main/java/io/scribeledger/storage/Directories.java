package io.scribeledger.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Directory fsync: a file that was created, renamed or linked survives a power loss only once its
 * directory entry is on disk too, which syncing the file itself does not promise (POSIX).
 */
public final class Directories {

  private Directories() {}

  /** Forces {@code dir}'s entries (names created, renamed or linked in it) to disk. */
  public static void sync(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }
}
