package io.scribeledger.storage;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The entry index: for ledger index n, fixed-size record n-1 in an append-only file says where the
 * entry's record lies in the segments, which version of its key it is and its op code. The rest of
 * an entry is read from its canonical header in the segment, so the MapDB index only holds what
 * needs a key lookup.
 */
public final class EntryIndexFile implements AutoCloseable {

  private static final int RECORD_SIZE = 8 + 8 + 4 + 4 + 8 + 1;

  /** Where entry n's value and canonical header lie, its key version and its op code. */
  public record Slot(ValueLocation value, int headerLength, long version, int opCode) {}

  private final FixedRecordFile file;

  /**
   * Opens {@code file} holding the slots of a committed ledger of {@code entries} entries, dropping
   * later ones.
   */
  public EntryIndexFile(Path file, long entries) {
    this(file, entries, FileOpener.DEFAULT);
  }

  /** As above, appending through a channel from {@code opener}. */
  public EntryIndexFile(Path file, long entries, FileOpener opener) {
    this.file = new FixedRecordFile(file, RECORD_SIZE, entries, opener);
  }

  /** Records entry {@code ledgerIndex}, which must be the next one. */
  public void append(long ledgerIndex, Slot slot) {
    ValueLocation v = slot.value();
    ByteBuffer b = ByteBuffer.allocate(RECORD_SIZE);
    b.putLong(v.segmentId())
        .putLong(v.offset())
        .putInt(v.length())
        .putInt(slot.headerLength())
        .putLong(slot.version())
        .put((byte) slot.opCode());
    file.append(ledgerIndex - 1, b.array());
  }

  /** Entry {@code ledgerIndex}'s slot, empty when the ledger does not reach it. */
  public Optional<Slot> get(long ledgerIndex) {
    byte[] raw = ledgerIndex < 1 ? null : file.read(ledgerIndex - 1);
    if (raw == null) {
      return Optional.empty();
    }
    ByteBuffer b = ByteBuffer.wrap(raw);
    ValueLocation value = new ValueLocation(b.getLong(), b.getLong(), b.getInt());
    return Optional.of(new Slot(value, b.getInt(), b.getLong(), b.get()));
  }

  /**
   * Writes buffered slots and forces them to disk; called before the index commit that counts them.
   */
  public void sync() {
    file.sync();
  }

  @Override
  public void close() {
    file.close();
  }
}
