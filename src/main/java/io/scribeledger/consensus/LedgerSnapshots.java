package io.scribeledger.consensus;

import io.scribeledger.ledger.LedgerState;
import io.scribeledger.storage.Directories;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;

/**
 * Snapshots of the ledger in Ratis's state-machine directory: one directory per snapshot, {@code
 * snapshot-<term>-<index>/}, holding hard links to the ledger's append-only files with a
 * description of how far each reaches ({@code ledger.meta}), and a {@code COMPLETE} marker written
 * last. Ratis ships these files to a follower that fell behind the purged log (or a new member) and
 * swaps them into its state-machine directory.
 */
final class LedgerSnapshots implements StateMachineStorage {

  private static final Pattern NAME = Pattern.compile("snapshot-(\\d+)-(\\d+)");
  private static final String COMPLETE = "COMPLETE";

  /** The latest and the one before it are always kept… */
  private static final int RETAINED = 2;

  /** …and so is any snapshot younger than this: a follower may still be downloading it. */
  private static final long MIN_AGE_MS = 120_000;

  private volatile Path smDir;
  private volatile FileListSnapshotInfo latest;

  @Override
  public void init(RaftStorage storage) throws IOException {
    smDir = storage.getStorageDir().getStateMachineDir().toPath();
    Files.createDirectories(smDir);
    // A snapshot cut short by a crash: its links would keep dropped files alive.
    try (Stream<Path> dirs = Files.list(smDir)) {
      for (Path tmp :
          (Iterable<Path>)
              dirs.filter(d -> d.getFileName().toString().endsWith(".tmp"))::iterator) {
        deleteTree(tmp);
      }
    }
    refresh();
  }

  /** Re-reads the directory: after start, and after Ratis installed a snapshot into it. */
  void refresh() throws IOException {
    latest = latestDir().map(this::info).orElse(null);
  }

  @Override
  public SnapshotInfo getLatestSnapshot() {
    return latest;
  }

  Optional<Path> latestDir() throws IOException {
    return latestIn(smDir);
  }

  /** The latest complete snapshot in a state-machine directory, read before Ratis starts. */
  static Optional<Path> latestIn(Path smDir) throws IOException {
    if (!Files.isDirectory(smDir)) {
      return Optional.empty();
    }
    return completeDirs(smDir).stream().max(Comparator.comparingLong(LedgerSnapshots::indexOf));
  }

  private List<Path> completeDirs() throws IOException {
    return completeDirs(smDir);
  }

  private static List<Path> completeDirs(Path smDir) throws IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(smDir)) {
      dirs.filter(
              d ->
                  NAME.matcher(d.getFileName().toString()).matches()
                      && Files.exists(d.resolve(COMPLETE)))
          .forEach(out::add);
    }
    return out;
  }

  static long indexOf(Path dir) {
    Matcher m = NAME.matcher(dir.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(2)) : -1;
  }

  private FileListSnapshotInfo info(Path dir) {
    Matcher m = NAME.matcher(dir.getFileName().toString());
    if (!m.matches()) {
      throw new IllegalArgumentException(dir + " is not a snapshot directory");
    }
    List<FileInfo> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      // The marker goes last, so a follower only sees a complete snapshot once every file has
      // arrived.
      walk.filter(Files::isRegularFile)
          .sorted(
              Comparator.comparing((Path p) -> p.getFileName().toString().equals(COMPLETE))
                  .thenComparing(Path::toString))
          .forEach(p -> files.add(new FileInfo(p.toAbsolutePath(), null)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list snapshot " + dir, e);
    }
    return new FileListSnapshotInfo(files, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
  }

  /** Writes a snapshot of {@code state} as of {@code at} and makes it the latest. Blocking. */
  SnapshotInfo take(TermIndex at, LedgerState state) throws IOException {
    String name = "snapshot-" + at.getTerm() + "-" + at.getIndex();
    Path tmp = smDir.resolve(name + ".tmp");
    deleteTree(tmp);
    Files.createDirectories(tmp);
    try {
      state.writeSnapshot(tmp);
      Files.writeString(
          tmp.resolve(COMPLETE),
          at.toString(),
          StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE,
          StandardOpenOption.SYNC);
      // Its names, then the rename that makes it visible, on disk before a later step relies on
      // them (the Raft log is purged up to this snapshot).
      Directories.sync(tmp);
    } catch (IOException | RuntimeException e) {
      // Its links would keep files alive that the ledger later drops (segments evicted to the
      // cold tier, files a restore replaces).
      try {
        deleteTree(tmp);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    Path dir = smDir.resolve(name);
    deleteTree(dir);
    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    Directories.sync(smDir);
    latest = info(dir);
    cleanupOldSnapshots(
        new SnapshotRetentionPolicy() {
          @Override
          public int getNumSnapshotsRetained() {
            return RETAINED;
          }
        });
    return latest;
  }

  /** Total bytes of the latest snapshot. */
  long latestSizeBytes() {
    FileListSnapshotInfo s = latest;
    return s == null ? 0 : s.getFiles().stream().mapToLong(FileInfo::getFileSize).sum();
  }

  @Override
  public void format() {}

  @Override
  public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
    int keep = Math.max(1, policy.getNumSnapshotsRetained());
    List<Path> dirs = completeDirs();
    dirs.sort(Comparator.comparingLong(LedgerSnapshots::indexOf).reversed());
    long now = System.currentTimeMillis();
    for (Path old : dirs.subList(Math.min(keep, dirs.size()), dirs.size())) {
      if (now - Files.getLastModifiedTime(old.resolve(COMPLETE)).toMillis() >= MIN_AGE_MS) {
        deleteTree(old);
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
