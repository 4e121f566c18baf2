package io.scribeledger.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Free space under the directories a node writes (segments and index, Raft log), held against a
 * floor. Writes are admitted only while the space left after them stays above it, so a full disk is
 * a clean refusal at the door, never a failed apply. A reading is taken by {@link #refresh} (a
 * statfs per directory: call it off the event loop); between readings the bytes admitted are
 * counted against the last one, so a burst cannot run past the floor.
 */
public final class DiskSpace {

  /**
   * A write costs its value about twice (the Raft log and a segment) plus a little for headers and
   * index records.
   */
  private static final long COPIES = 2;

  private static final long OVERHEAD = 4096;

  /** One reading: the least free space among the directories, and which directory has it. */
  public record Reading(long freeBytes, Path tightest) {}

  private final List<Path> dirs;
  private final long floorBytes;
  private final AtomicLong admittedSinceReading = new AtomicLong();
  private volatile Reading last;
  private volatile boolean refusing;

  /**
   * Watches {@code dirs} (created if missing) against {@code floorBytes}; 0 turns the floor off.
   */
  public DiskSpace(List<Path> dirs, long floorBytes) {
    this.dirs = List.copyOf(dirs);
    this.floorBytes = floorBytes;
    try {
      for (Path dir : this.dirs) {
        Files.createDirectories(dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    refresh();
  }

  /** Reads the file systems again (blocking) and starts counting admitted bytes from zero. */
  public Reading refresh() {
    Reading least = null;
    for (Path dir : dirs) {
      long free;
      try {
        free = Files.getFileStore(dir).getUsableSpace();
      } catch (IOException e) {
        free = 0; // a file system that cannot be read is no place to write
      }
      if (least == null || free < least.freeBytes()) {
        least = new Reading(free, dir);
      }
    }
    admittedSinceReading.set(0);
    last = least;
    if (refusing && least.freeBytes() >= floorBytes + hysteresis()) {
      refusing = false;
    }
    return least;
  }

  /**
   * Once below the floor, writes resume only when free space is this much above it: an estimate of
   * what each write costs would otherwise let the node flap between refusing and admitting.
   */
  private long hysteresis() {
    return Math.max(1024 * 1024, floorBytes / 2);
  }

  /**
   * Admits a write of {@code valueBytes}, or says why not: free space, less what was admitted since
   * the last reading, is below the floor. The floor itself holds room for the largest value.
   */
  public Optional<String> admit(long valueBytes) {
    Optional<String> problem = belowFloor();
    if (problem.isEmpty()) {
      admittedSinceReading.addAndGet(valueBytes * COPIES + OVERHEAD);
    }
    return problem;
  }

  /**
   * Why writes are refused now, or empty while free space is above the floor (and, after it was
   * below, back above it by the hysteresis).
   */
  public Optional<String> belowFloor() {
    Reading r = last;
    if (floorBytes > 0 && r.freeBytes() - admittedSinceReading.get() < floorBytes) {
      refusing = true;
    }
    return refusing ? Optional.of(problem(r)) : Optional.empty();
  }

  public long freeBytes() {
    return last.freeBytes();
  }

  private String problem(Reading r) {
    return "free space under "
        + r.tightest()
        + " is "
        + r.freeBytes()
        + " bytes, at or below the floor of "
        + floorBytes
        + " (storage.minFreeBytes); writes are refused until space is freed";
  }
}
