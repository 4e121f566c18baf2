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
   * checking the stored object's size and SHA-256 against the record; never reads more than the
   * record's size, nor writes more than {@code segmentBytes}. Blocking; fails with an IOException
   * when the object is missing, unreadable, larger or does not match.
   */
  void download(SegmentArchived record, long segmentBytes, Path target) throws IOException;
}
