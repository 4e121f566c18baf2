package io.scribeledger.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Append-only segment files holding each entry's canonical header and value. One writer (the apply
 * thread) appends; any thread reads by {@link ValueLocation}. A segment ends only when the state
 * machine seals it through Raft ({@link #roll}), so every replica has the same boundaries. Appends
 * are made durable by {@link #force()}, which the state machine calls before it commits the index
 * that points at them.
 *
 * <p>Record layout: {@code u32 headerLen, header, u32 valueLen, value, u32 crc32c(header ||
 * value)}.
 */
public final class SegmentStore implements AutoCloseable {

  private final Path dir;
  private final FileOpener opener;
  private final long segmentSizeBytes;
  private final Map<Long, FileChannel> readers = new ConcurrentHashMap<>();

  /** When each sealed segment was last read (ms), for keeping recalled segments by recency. */
  private final Map<Long, Long> lastRead = new ConcurrentHashMap<>();

  private final Recall recall;
  private volatile FileChannel active;
  private volatile long activeId;
  private long activeLength;
  private Optional<String> shortfall = Optional.empty();

  /**
   * Brings back the file of a sealed segment this node evicted (read-through from the cold tier).
   */
  @FunctionalInterface
  public interface Recall {
    /**
     * Writes segment {@code segmentId}'s checked bytes to {@code target}, atomically (the file
     * appears whole or not at all); blocking.
     */
    void into(long segmentId, Path target) throws IOException;
  }

  /** Where nothing can be recalled: an evicted segment cannot be read. */
  public static final Recall NO_RECALL =
      (id, target) -> {
        throw new IOException("segment " + id + " is not on this node and no cold tier is set");
      };

  /** Where the durable part of the segment files ends: the active segment and its length. */
  public record Position(long segmentId, long length) {}

  /**
   * Opens the segment directory and cuts it back to {@code committed}: bytes appended after the
   * last index commit belong to entries that Raft will apply again.
   */
  public SegmentStore(Path dir, long segmentSizeBytes, Position committed) {
    this(dir, segmentSizeBytes, committed, FileOpener.DEFAULT, NO_RECALL);
  }

  /**
   * As above, appending through channels from {@code opener}, and reading sealed segments that are
   * not on disk through {@code recall}.
   */
  public SegmentStore(
      Path dir, long segmentSizeBytes, Position committed, FileOpener opener, Recall recall) {
    this.dir = dir;
    this.opener = opener;
    this.recall = recall;
    this.segmentSizeBytes = segmentSizeBytes;
    try {
      Files.createDirectories(dir);
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          long id = idOf(f);
          if (id > committed.segmentId()) {
            Files.delete(f);
          }
        }
      }
      openActive(committed.segmentId());
      if (activeLength > committed.length()) {
        active.truncate(committed.length());
        active.force(true);
      } else if (activeLength < committed.length()) {
        // Committed bytes are gone (a file cut short outside the node): the entries there fail
        // their integrity check when read, and the scrub names the segment.
        shortfall =
            Optional.of(
                "segment "
                    + activeId
                    + " is "
                    + activeLength
                    + " bytes, shorter than the "
                    + committed.length()
                    + " bytes committed to it");
      }
      activeLength = committed.length();
      active.position(activeLength);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open segments in " + dir, e);
    }
  }

  private static long idOf(Path file) {
    String name = file.getFileName().toString();
    if (!name.startsWith("seg-") || !name.endsWith(".log")) {
      return -1;
    }
    return Long.parseLong(name.substring(4, name.length() - 4));
  }

  private Path fileOf(long id) {
    return fileOf(dir, id);
  }

  /** The file of segment {@code id} in segment directory {@code dir}. */
  public static Path fileOf(Path dir, long id) {
    return dir.resolve(String.format("seg-%020d.log", id));
  }

  private void openActive(long id) throws IOException {
    boolean created = !Files.exists(fileOf(id));
    active =
        opener.open(
            fileOf(id),
            Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ));
    activeId = id;
    activeLength = active.size();
    if (created) {
      Directories.sync(dir);
    }
  }

  /**
   * What was wrong with the active segment when it was opened: shorter than its committed length.
   */
  public Optional<String> shortfall() {
    return shortfall;
  }

  /**
   * Appends one record at the end of the active segment and returns where its value lies. Writes go
   * to explicit offsets and the length advances only once the whole record is written; a write that
   * fails is cut back off the file, so a retry (or a replay after restart) starts where the last
   * whole record ended.
   */
  public ValueLocation append(byte[] header, byte[] value) {
    long start = activeLength;
    try {
      CRC32C crc = new CRC32C();
      crc.update(header);
      crc.update(value);
      ByteBuffer head =
          ByteBuffer.allocate(4 + header.length + 4)
              .putInt(header.length)
              .put(header)
              .putInt(value.length);
      head.flip();
      ByteBuffer tail = ByteBuffer.allocate(4).putInt((int) crc.getValue());
      tail.flip();
      long at = start;
      for (ByteBuffer part : new ByteBuffer[] {head, ByteBuffer.wrap(value), tail}) {
        while (part.hasRemaining()) {
          at += active.write(part, at);
        }
      }
      activeLength = at;
      return new ValueLocation(activeId, start + 4 + header.length + 4, value.length);
    } catch (IOException e) {
      cutBack(start, e);
      throw new UncheckedIOException("cannot append to segment " + activeId, e);
    }
  }

  private void cutBack(long length, IOException failure) {
    try {
      active.truncate(length);
    } catch (IOException e) {
      failure.addSuppressed(e);
    }
  }

  /**
   * Closes the active segment (forced to disk) and starts the next; returns the closed one's
   * position.
   */
  public Position roll() {
    try {
      Position closed = new Position(activeId, activeLength);
      active.force(true);
      active.close();
      openActive(activeId + 1);
      return closed;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot roll segment " + activeId, e);
    }
  }

  /**
   * Bytes in the active segment; the state machine seals it once this passes {@code
   * segmentSizeBytes}.
   */
  public long activeLength() {
    return activeLength;
  }

  public boolean full() {
    return activeLength >= segmentSizeBytes;
  }

  /**
   * Links every segment file, the active one included, into {@code target}. The active file keeps
   * growing under both names; a snapshot records the position it covers (see {@link #position()}).
   */
  public void linkTo(Path target) throws IOException {
    for (long id = 1; id <= activeId; id++) {
      if (Files.exists(fileOf(id))) {
        HardLinks.link(fileOf(id), target.resolve(fileOf(id).getFileName()));
      }
    }
  }

  /**
   * Makes the segment files in {@code dir} those of {@code source}: old ones unlinked, the source's
   * linked in.
   */
  public static void replaceAll(Path dir, Path source) throws IOException {
    Files.createDirectories(dir);
    Directories.clear(dir);
    if (Files.isDirectory(source)) {
      try (Stream<Path> files = Files.list(source)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          HardLinks.link(f, dir.resolve(f.getFileName()));
        }
      }
    }
  }

  /** One record as it lies in a segment file. */
  // Hashes and bytes: compared by content where it matters, never by record equality.
  @SuppressWarnings("ArrayRecordComponent")
  public record StoredRecord(long offset, byte[] header, byte[] value, boolean checksumValid) {}

  /**
   * Reads every record of the segment file {@code file} in order (the integrity scrub, a recalled
   * or archived segment). A file that ends inside a record, or a length that points past its end,
   * fails with an IOException.
   */
  public static void forEachRecord(Path file, Consumer<StoredRecord> visitor) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      long pos = 0;
      while (pos < size) {
        int headerLen = readInt(ch, pos, size);
        byte[] header = readBytes(ch, pos + 4, headerLen, size);
        int valueLen = readInt(ch, pos + 4 + headerLen, size);
        byte[] value = readBytes(ch, pos + 8 + headerLen, valueLen, size);
        int crc = readInt(ch, pos + 8 + headerLen + valueLen, size);
        CRC32C check = new CRC32C();
        check.update(header);
        check.update(value);
        visitor.accept(new StoredRecord(pos, header, value, (int) check.getValue() == crc));
        pos += 12L + headerLen + valueLen;
      }
    }
  }

  private static int readInt(FileChannel ch, long pos, long size) throws IOException {
    return ByteBuffer.wrap(readBytes(ch, pos, 4, size)).getInt();
  }

  private static byte[] readBytes(FileChannel ch, long pos, int len, long size) throws IOException {
    if (len < 0 || pos + len > size) {
      throw new IOException(
          "record at offset " + pos + " runs past the end of the file (" + size + " bytes)");
    }
    ByteBuffer buf = ByteBuffer.allocate(len);
    while (buf.hasRemaining()) {
      if (ch.read(buf, pos + buf.position()) < 0) {
        throw new IOException("unexpected end of file at " + (pos + buf.position()));
      }
    }
    return buf.array();
  }

  /** Where the appended records end; durable once {@link #force} has run. Apply thread only. */
  public Position position() {
    return new Position(activeId, activeLength);
  }

  /** Forces every record appended so far to disk; safe from any thread while no roll runs. */
  public void force() {
    try {
      active.force(false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot sync segment " + activeId, e);
    }
  }

  /** Number of segment files; ids run from 1 to the active one. */
  public long count() {
    return activeId;
  }

  /** The header stored just before a value (record layout above) of {@code headerLength} bytes. */
  public byte[] readHeader(ValueLocation value, int headerLength) {
    return read(
        new ValueLocation(value.segmentId(), value.offset() - 4 - headerLength, headerLength));
  }

  /**
   * A read channel of its own on the segment that holds {@code location}, for sending a value from
   * disk: the caller closes it. Its own, not the shared one, so that closing this store (a snapshot
   * restore) never cuts a send short, and the file it reads stays the one it opened.
   */
  public FileChannel openForSending(ValueLocation location) {
    ensureLocal(location.segmentId());
    return openReader(location.segmentId());
  }

  /**
   * Hands a value's bytes to {@code piece} 64 KiB at a time (to hash a large value without holding
   * it whole); each buffer is valid only during its call.
   */
  public void readPieces(ValueLocation location, Consumer<ByteBuffer> piece) {
    readPieces(reader(location.segmentId()), location, piece);
  }

  /** As above, through {@code ch} (a channel from {@link #openForSending}). */
  public static void readPieces(
      FileChannel ch, ValueLocation location, Consumer<ByteBuffer> piece) {
    ByteBuffer buf = ByteBuffer.allocate(Math.min(location.length(), 64 * 1024));
    try {
      long pos = location.offset();
      long end = pos + location.length();
      while (pos < end) {
        int chunk = (int) Math.min(buf.capacity(), end - pos);
        buf.clear().limit(chunk);
        readFully(ch, buf, pos, location.segmentId());
        piece.accept(buf.flip());
        pos += chunk;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + location, e);
    }
  }

  /** Reads a value's bytes. */
  public byte[] read(ValueLocation location) {
    byte[] out = new byte[location.length()];
    ByteBuffer buf = ByteBuffer.wrap(out);
    try {
      FileChannel ch = reader(location.segmentId());
      readFully(ch, buf, location.offset(), location.segmentId());
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + location, e);
    }
  }

  /** Fills {@code buf} from {@code pos} on; a segment that ends first is an error. */
  private static void readFully(FileChannel ch, ByteBuffer buf, long pos, long segmentId)
      throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new IOException("segment " + segmentId + " ends before offset " + pos);
      }
      pos += n;
    }
  }

  /** The shared read channel of segment {@code id}, recalling the file first if it was evicted. */
  private FileChannel reader(long id) {
    if (recall != NO_RECALL && id < activeId) {
      // Only a node with a cold tier keeps recalled segments by recency: nobody else reads this.
      lastRead.put(id, System.currentTimeMillis());
    }
    FileChannel ch = readers.get(id);
    if (ch != null) {
      return ch;
    }
    ensureLocal(id); // outside computeIfAbsent: a download must not hold the map's lock
    return readers.computeIfAbsent(id, this::openReader);
  }

  /** Brings back a sealed segment's file if this node evicted it. */
  private void ensureLocal(long id) {
    Path file = fileOf(id);
    if (id < activeId && !Files.exists(file)) {
      try {
        recall.into(id, file);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot recall segment " + id, e);
      }
    }
  }

  /** Whether sealed segment {@code id}'s file is on this node's disk. */
  public boolean isLocal(long id) {
    return Files.exists(fileOf(id));
  }

  /**
   * A sealed segment file on this node: its size, and when it was last read (0: not since start).
   */
  public record LocalSegment(long id, long sizeBytes, long lastReadMs) {}

  /** The sealed segment files on this node's disk, oldest first. Blocking (lists the directory). */
  public java.util.List<LocalSegment> localSealed() {
    java.util.List<LocalSegment> out = new java.util.ArrayList<>();
    for (long id = 1; id < activeId; id++) {
      Path f = fileOf(id);
      try {
        out.add(new LocalSegment(id, Files.size(f), lastRead.getOrDefault(id, 0L)));
      } catch (java.nio.file.NoSuchFileException gone) {
        // evicted
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the size of " + f, e);
      }
    }
    return out;
  }

  /**
   * Removes sealed segment {@code id}'s file from this node (its archived copy stays the one to
   * read it from). The caller makes sure no read uses it meanwhile.
   */
  public void evict(long id) throws IOException {
    if (id >= activeId) {
      throw new IllegalArgumentException("segment " + id + " is not sealed");
    }
    FileChannel ch = readers.remove(id);
    if (ch != null) {
      ch.close();
    }
    lastRead.remove(id);
    Files.deleteIfExists(fileOf(id));
    Directories.sync(dir);
  }

  private FileChannel openReader(long id) {
    try {
      return FileChannel.open(fileOf(id), StandardOpenOption.READ);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open segment " + id, e);
    }
  }

  @Override
  public void close() {
    FileChannel last = active;
    try (last) {
      for (FileChannel ch : readers.values()) {
        ch.close();
      }
      last.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close segments", e);
    }
  }
}
