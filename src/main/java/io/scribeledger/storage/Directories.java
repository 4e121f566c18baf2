package io.scribeledger.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Directory operations: fsync (a file that was created, renamed or linked survives a power loss
 * only once its directory entry is on disk too, which syncing the file itself does not promise:
 * POSIX), replacing a small file so that a crash leaves the old content or the new, emptying a
 * directory of work files, and asking whether one is empty.
 */
public final class Directories {

  private Directories() {}

  /** Forces {@code dir}'s entries (names created, renamed or linked in it) to disk. */
  public static void sync(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /**
   * Replaces {@code file}'s content with {@code content}: written to a temporary file beside it,
   * then moved over it with {@link #moveDurably}, so that after a crash the file holds the old
   * content or the new, never a part.
   */
  public static void replaceDurably(Path file, byte[] content) throws IOException {
    // One name, so that a crash's leftover is overwritten next time rather than piling up.
    Path tmp = file.toAbsolutePath().getParent().resolve("." + file.getFileName() + ".tmp");
    try {
      Files.write(tmp, content);
      moveDurably(tmp, file);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Moves the finished file {@code written} to {@code target} (replacing it) so that a crash never
   * leaves the name pointing at bytes not yet on disk: the file forced first, the rename atomic,
   * the directory forced after.
   */
  public static void moveDurably(Path written, Path target) throws IOException {
    try (FileChannel channel = FileChannel.open(written, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.move(
        written,
        target,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    sync(target.toAbsolutePath().getParent());
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
