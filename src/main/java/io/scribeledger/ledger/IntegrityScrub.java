package io.scribeledger.ledger;

import io.scribeledger.merkle.Hashes;
import io.scribeledger.merkle.MemoryNodeStore;
import io.scribeledger.merkle.MerkleTree;
import io.scribeledger.storage.SegmentStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Recomputes every sealed segment from its file — checksums, value hashes, leaf hashes, the Merkle
 * root over its leaves — and compares it with the replicated manifest; also reports an active
 * segment found shorter than its committed length at start. Blocking; runs on a worker.
 */
public final class IntegrityScrub {

  /**
   * What a scrub found; an empty problem list means every sealed segment matched its manifest
   * entry.
   */
  public record Report(
      int segmentsChecked, int archivedNotChecked, List<String> problems, long finishedAt) {
    public boolean clean() {
      return problems.isEmpty();
    }
  }

  private IntegrityScrub() {}

  /**
   * Checks every sealed segment on this node's disk; a segment evicted to the cold tier is fetched
   * and checked too when {@code withArchived} (an operator's scrub), and only counted otherwise
   * (the scrub at start, which must not download the whole archive).
   */
  public static Report run(LedgerState state, boolean withArchived) {
    List<String> problems = new ArrayList<>();
    List<SegmentInfo> segments = state.segments();
    int[] skipped = {0};
    state.withSegments(
        store -> {
          store.shortfall().ifPresent(problems::add);
          for (SegmentInfo segment : segments) {
            if (store.isLocal(segment.id())) {
              problems.addAll(
                  check(SegmentStore.fileOf(state.segmentsDir(), segment.id()), segment));
            } else if (withArchived) {
              problems.addAll(state.checkArchived(segment));
            } else {
              skipped[0]++;
            }
          }
          return null;
        });
    return new Report(
        segments.size() - skipped[0],
        skipped[0],
        List.copyOf(problems),
        System.currentTimeMillis());
  }

  /**
   * What is wrong with {@code file} as the segment {@code segment} describes (records in order,
   * checksums, value hashes, leaf count, Merkle root); empty when it matches.
   */
  public static List<String> check(java.nio.file.Path file, SegmentInfo segment) {
    String where =
        "segment "
            + segment.id()
            + " (entries "
            + segment.firstIndex()
            + ".."
            + segment.lastIndex()
            + ")";
    MerkleTree tree = new MerkleTree(new MemoryNodeStore());
    long[] next = {segment.firstIndex()};
    List<String> found = new ArrayList<>();
    try {
      SegmentStore.forEachRecord(
          file,
          record -> {
            long index = ByteBuffer.wrap(record.header(), 1, 8).getLong();
            if (index != next[0]) {
              found.add(
                  where
                      + ": record at offset "
                      + record.offset()
                      + " holds index "
                      + index
                      + ", expected "
                      + next[0]);
            }
            if (!record.checksumValid()) {
              found.add(where + ": checksum mismatch in the record of index " + index);
            }
            byte[] recorded =
                java.util.Arrays.copyOfRange(
                    record.header(), record.header().length - Hashes.SIZE, record.header().length);
            if (!MessageDigest.isEqual(recorded, Hashes.sha256(record.value()))) {
              found.add(
                  where + ": the value of index " + index + " does not match its recorded SHA-256");
            }
            tree.append(next[0] - segment.firstIndex(), Hashes.leafHash(record.header()));
            next[0]++;
          });
    } catch (IOException | RuntimeException e) {
      found.add(where + ": unreadable: " + e.getMessage());
    }
    long leaves = next[0] - segment.firstIndex();
    if (found.isEmpty() && leaves != segment.leafCount()) {
      found.add(where + ": holds " + leaves + " records, the manifest says " + segment.leafCount());
    }
    if (found.isEmpty() && !MessageDigest.isEqual(tree.root(leaves), segment.merkleRoot())) {
      found.add(where + ": Merkle root recomputed from the file differs from the manifest");
    }
    return found;
  }
}
