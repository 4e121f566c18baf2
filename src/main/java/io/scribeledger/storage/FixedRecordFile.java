package io.scribeledger.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * An append-only file of fixed-size records, record n at byte {@code n * recordSize}: the storage
 * under the Merkle node file and the entry index. Appends collect in a buffer that {@link #sync}
 * writes and forces before the index commit that counts them; on open the file is cut back to the
 * committed count, so records a crash left past it are written again by the replay, as segments
 * are. One writer (the apply thread); readers on any thread, reading written records without a
 * lock.
 */
final class FixedRecordFile implements AutoCloseable {

  private static final int BUFFER_BYTES = 64 * 1024;

  private final Path file;
  private final int recordSize;
  private final FileChannel channel;
  private final ByteBuffer pending;

  /** Records in the file; only grows while open, and records below it never change. */
  private volatile long written;

  /** Opens {@code file} holding at least {@code committed} records and drops any after them. */
  FixedRecordFile(Path file, int recordSize, long committed, FileOpener opener) {
    this.file = file;
    this.recordSize = recordSize;
    this.pending = ByteBuffer.allocate(Math.max(1, BUFFER_BYTES / recordSize) * recordSize);
    try {
      boolean created = !java.nio.file.Files.exists(file);
      channel =
          opener.open(
              file,
              Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE));
      if (created) {
        Directories.sync(file.toAbsolutePath().getParent());
      }
      long have = channel.size() / recordSize;
      if (have < committed) {
        channel.close();
        throw new IllegalStateException(
            file
                + " holds "
                + have
                + " records but the committed ledger needs "
                + committed
                + "; the file is damaged or from another ledger");
      }
      if (channel.size() > committed * recordSize) {
        channel.truncate(committed * recordSize);
        channel.force(true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + file, e);
    }
    written = committed;
  }

  /** Appends record number {@code position}, which must be the next one. */
  synchronized void append(long position, byte[] record) {
    if (record.length != recordSize) {
      throw new IllegalArgumentException(
          "records in " + file + " are " + recordSize + " bytes, not " + record.length);
    }
    long next = written + pending.position() / recordSize;
    if (position != next) {
      throw new IllegalStateException(
          "record " + position + " appended to " + file + " which ends at " + next);
    }
    if (!pending.hasRemaining()) {
      flush();
    }
    pending.put(record);
  }

  /** Record number {@code position}, or null when there is none yet. */
  byte[] read(long position) {
    if (position < written) {
      return readWritten(position);
    }
    synchronized (this) {
      if (position < written) {
        return readWritten(position);
      }
      long offset = (position - written) * recordSize;
      if (position < 0 || offset >= pending.position()) {
        return null;
      }
      byte[] record = new byte[recordSize];
      pending.get((int) offset, record);
      return record;
    }
  }

  private byte[] readWritten(long position) {
    if (position < 0) {
      return null;
    }
    ByteBuffer record = ByteBuffer.allocate(recordSize);
    try {
      while (record.hasRemaining()) {
        if (channel.read(record, position * recordSize + record.position()) < 0) {
          throw new IOException("unexpected end of " + file);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read record " + position + " of " + file, e);
    }
    return record.array();
  }

  // Written only under this object's lock; volatile for lock-free readers.
  @SuppressWarnings("NonAtomicVolatileUpdate")
  private void flush() {
    // Written from a view, so a failed write leaves the buffer as it was: a retry writes every
    // pending record again at the same offsets, and the count advances only once all are written.
    ByteBuffer out = pending.duplicate().flip();
    try {
      long at = written * recordSize;
      while (out.hasRemaining()) {
        at += channel.write(out, at);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write to " + file, e);
    }
    written += out.limit() / recordSize;
    pending.clear();
  }

  /** Writes buffered records and forces the file to disk. */
  synchronized void sync() {
    flush();
    try {
      channel.force(false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot sync " + file, e);
    }
  }

  @Override
  public synchronized void close() {
    try (channel) {
      flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close " + file, e);
    }
  }
}
