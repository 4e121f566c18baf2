package io.scribeledger.ledger;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.LedgerException;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.merkle.MerkleTree;
import io.scribeledger.storage.Closeables;
import io.scribeledger.storage.Directories;
import io.scribeledger.storage.EntryIndexFile;
import io.scribeledger.storage.FileOpener;
import io.scribeledger.storage.HardLinks;
import io.scribeledger.storage.MerkleNodeFile;
import io.scribeledger.storage.SegmentStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * The ledger's append-only files, opened together and replaced together when a snapshot is
 * installed: the segments (entry headers and values), the entry index file (a slot per entry) and
 * the Merkle node file with the tree over it. Every read checks what it returns against the stored
 * hashes, so a damaged file answers 503, never wrong bytes.
 */
record LedgerFiles(
    Path dataDir,
    SegmentStore segments,
    EntryIndexFile entries,
    MerkleNodeFile nodes,
    MerkleTree tree)
    implements AutoCloseable {

  private static final String SEGMENTS_DIR = "segments";
  private static final String NODES_FILE = "merkle.nodes";
  private static final String ENTRIES_FILE = "entries.idx";

  /** Where the segment files of the ledger in {@code dataDir} live. */
  static Path segmentsDir(Path dataDir) {
    return dataDir.resolve(SEGMENTS_DIR);
  }

  /**
   * Opens the files in {@code dataDir}, cut back to a ledger of {@code size} entries whose segments
   * end at {@code position}; an evicted segment is read back through {@code recall}.
   */
  static LedgerFiles open(
      Path dataDir,
      long segmentSizeBytes,
      SegmentStore.Position position,
      long size,
      FileOpener opener,
      SegmentStore.Recall recall) {
    SegmentStore segments =
        new SegmentStore(segmentsDir(dataDir), segmentSizeBytes, position, opener, recall);
    MerkleNodeFile nodes = null;
    try {
      nodes = new MerkleNodeFile(dataDir.resolve(NODES_FILE), size, opener);
      EntryIndexFile entries = new EntryIndexFile(dataDir.resolve(ENTRIES_FILE), size, opener);
      return new LedgerFiles(dataDir, segments, entries, nodes, new MerkleTree(nodes));
    } catch (RuntimeException e) {
      // No file stays open in this JVM when a later one cannot be opened.
      Closeables.closeAll(e, segments, nodes);
      throw e;
    }
  }

  /**
   * Links the files into snapshot directory {@code dir}: they only grow at their end, so the links
   * hold them as they are now as long as the snapshot's lengths are recorded beside them.
   */
  void linkInto(Path dir) throws IOException {
    HardLinks.link(dataDir.resolve(NODES_FILE), dir.resolve(NODES_FILE));
    HardLinks.link(dataDir.resolve(ENTRIES_FILE), dir.resolve(ENTRIES_FILE));
    segments.linkTo(Files.createDirectories(segmentsDir(dir)));
    Directories.sync(segmentsDir(dir));
  }

  /**
   * Makes {@code dataDir}'s files those linked into {@code snapshot} (closed files only; opened
   * afterwards at the snapshot's lengths).
   */
  static void replaceWithSnapshot(Path dataDir, Path snapshot) throws IOException {
    HardLinks.replace(snapshot.resolve(NODES_FILE), dataDir.resolve(NODES_FILE));
    HardLinks.replace(snapshot.resolve(ENTRIES_FILE), dataDir.resolve(ENTRIES_FILE));
    SegmentStore.replaceAll(segmentsDir(dataDir), segmentsDir(snapshot));
    Directories.sync(dataDir);
    Directories.sync(segmentsDir(dataDir));
  }

  /** Deletes {@code dataDir}'s files (closed), so that the ledger opens empty. */
  static void delete(Path dataDir) throws IOException {
    Files.deleteIfExists(dataDir.resolve(ENTRIES_FILE));
    Files.deleteIfExists(dataDir.resolve(NODES_FILE));
    Directories.clear(segmentsDir(dataDir));
  }

  /** Makes everything appended so far durable. */
  void sync() {
    segments.force();
    nodes.sync();
    entries.sync();
  }

  /** Closes every file even when one fails; the first failure is thrown, the others suppressed. */
  @Override
  public void close() {
    Closeables.closeAll(null, segments, nodes, entries);
  }

  /**
   * Entry {@code ledgerIndex} from its slot and its canonical header in the segment. The header
   * must hash to the stored Merkle leaf, so a damaged segment answers 503 rather than a wrong
   * entry.
   */
  Optional<EntryRecord> record(long ledgerIndex) {
    Optional<EntryIndexFile.Slot> found = entries.get(ledgerIndex);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    EntryIndexFile.Slot slot = found.get();
    byte[] header;
    try {
      header = segments.readHeader(slot.value(), slot.headerLength());
    } catch (UncheckedIOException e) {
      throw damaged("entry", ledgerIndex); // a segment cut short: the bytes are not there
    }
    byte[] leaf = Hashes.leafHash(header);
    CanonicalEntry canonical = null;
    if (MessageDigest.isEqual(leaf, nodes.get(0, ledgerIndex - 1))) {
      try {
        canonical = CanonicalEntry.decode(header);
      } catch (RuntimeException e) {
        canonical = null;
      }
    }
    if (canonical == null || canonical.index() != ledgerIndex) {
      throw damaged("entry", ledgerIndex);
    }
    return Optional.of(
        new EntryRecord(
            ledgerIndex,
            canonical.timestamp(),
            canonical.op(),
            canonical.key(),
            slot.version(),
            canonical.contentType(),
            slot.value().length(),
            canonical.valueSha256(),
            leaf,
            slot.value()));
  }

  /** The key version that entry {@code ledgerIndex} wrote, from its slot; 0 when there is none. */
  long versionAt(long ledgerIndex) {
    return entries.get(ledgerIndex).map(EntryIndexFile.Slot::version).orElse(0L);
  }

  /**
   * The value's bytes, refused when they no longer hash to what the entry recorded (disk
   * corruption).
   */
  byte[] value(EntryRecord record) {
    byte[] value;
    try {
      value = record.size() == 0 ? new byte[0] : segments.read(record.location());
    } catch (UncheckedIOException e) {
      throw damaged("value", record.index());
    }
    requireValueHash(Hashes.sha256(value), record);
    return value;
  }

  /**
   * A channel of the caller's own on the segment holding a value, its bytes checked through it (see
   * {@link LedgerState#valueOnDisk}).
   */
  FileChannel valueOnDisk(EntryRecord record) {
    FileChannel channel;
    try {
      channel = segments.openForSending(record.location());
    } catch (UncheckedIOException e) {
      throw damaged("value", record.index());
    }
    try {
      MessageDigest digest = Hashes.sha256();
      SegmentStore.readPieces(channel, record.location(), digest::update);
      requireValueHash(digest.digest(), record);
      return channel;
    } catch (RuntimeException e) {
      Closeables.closeAll(e, channel);
      throw e instanceof UncheckedIOException ? damaged("value", record.index()) : e;
    }
  }

  /** Checks a value's bytes against its recorded SHA-256 without holding them whole. */
  void checkValue(EntryRecord record) {
    MessageDigest digest = Hashes.sha256();
    try {
      if (record.size() > 0) {
        segments.readPieces(record.location(), digest::update);
      }
    } catch (UncheckedIOException e) {
      throw damaged("value", record.index());
    }
    requireValueHash(digest.digest(), record);
  }

  /** Refuses a value whose bytes hash to {@code sha256} unless that is the recorded hash. */
  private static void requireValueHash(byte[] sha256, EntryRecord record) {
    if (!MessageDigest.isEqual(sha256, record.valueSha256())) {
      throw damaged("value", record.index());
    }
  }

  /** A stored entry or value that is missing or does not match its hash: 503, never wrong bytes. */
  private static LedgerException damaged(String part, long ledgerIndex) {
    return ApiError.of(
            ErrorCode.UNAVAILABLE,
            "the stored "
                + part
                + " of index "
                + ledgerIndex
                + " failed its integrity check on this node; read it from another replica")
        .exception();
  }
}
