package io.scribeledger.ledger;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where archived segments are read back from (the object store); the ledger checks what it gets
 * against the manifest before it uses it.
 */
public interface ColdTier {

  /**
   * Writes the segment file archived as {@code record} to {@code target}, decompressed, after
   * checking the stored object's size and SHA-256 against the record. Blocking; fails with an
   * IOException when the object is missing, unreadable or does not match.
   */
  void download(SegmentArchived record, Path target) throws IOException;
}
