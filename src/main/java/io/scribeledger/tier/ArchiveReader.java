package io.scribeledger.tier;

import io.scribeledger.ledger.IntegrityScrub;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.merkle.MemoryNodeStore;
import io.scribeledger.merkle.MerkleTree;
import io.scribeledger.storage.SegmentStore;
import io.scribeledger.verify.EntryCheck.Failed;
import io.scribeledger.verify.TreeHead;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;

/**
 * Reads an archive with no node at all, trusting nothing in it but what a pinned key signed: every
 * manifest object, every segment object (size, SHA-256, records, Merkle root), the tree built from
 * all their leaves against the head signed at each segment's end. For {@code scribe audit
 * --archive} and {@code scribe restore}. Blocking.
 */
public final class ArchiveReader {

  /** Checks that a head was signed by a key the caller trusts. */
  @FunctionalInterface
  public interface Trust {
    void check(TreeHead head) throws Failed;
  }

  /** Receives each checked segment file, in order, before it is deleted. */
  @FunctionalInterface
  public interface Visitor {
    void visit(ArchiveManifest manifest, Path segmentFile) throws IOException, Failed;
  }

  /**
   * What the archive proved: how many segments and entries, the root over them (as signed), and the
   * newest head the leader published, which may reach past what was archived.
   */
  // Hashes: compared by content where it matters, never by record equality.
  @SuppressWarnings("ArrayRecordComponent")
  public record Result(
      int segments, long entries, byte[] root, TreeHead lastSigned, Optional<TreeHead> latest) {}

  private ArchiveReader() {}

  /**
   * Walks the archive in segment order, fails on the first thing that does not check out, and hands
   * each checked segment file (in {@code workDir}) to {@code visitor}.
   */
  public static Result walk(
      S3Archive archive, Path workDir, long maxSegmentBytes, Trust trust, Visitor visitor)
      throws IOException, Failed {
    List<ArchiveManifest> manifests = manifests(archive);
    if (manifests.isEmpty()) {
      throw new Failed(
          "s3://" + archive.bucket() + "/" + archive.prefix() + " holds no archived segment");
    }
    MerkleTree tree = new MerkleTree(new MemoryNodeStore());
    long next = 1;
    long expectedId = 1;
    TreeHead last = null;
    Files.createDirectories(workDir);
    for (ArchiveManifest m : manifests) {
      String where = "segment " + m.segment().id();
      if (m.segment().id() != expectedId || m.segment().firstIndex() != next) {
        throw new Failed(
            where
                + " starts at entry "
                + m.segment().firstIndex()
                + "; the archive needs segment "
                + expectedId
                + " starting at entry "
                + next
                + " (a segment is missing)");
      }
      if (!m.object().objectKey().equals(archive.segmentKey(m.segment(), m.object().codec()))) {
        throw new Failed(where + ": object key " + m.object().objectKey() + " is not its own");
      }
      if (m.segment().sizeBytes() > maxSegmentBytes || m.object().objectSize() > maxSegmentBytes) {
        // The manifest is not trusted yet: it must not make us download or inflate without bound.
        throw new Failed(
            where
                + " claims "
                + Math.max(m.segment().sizeBytes(), m.object().objectSize())
                + " bytes, more than the "
                + maxSegmentBytes
                + " allowed (--max-segment-bytes)");
      }
      Path file = workDir.resolve("seg-" + m.segment().id() + ".log");
      try {
        archive.download(m.object(), m.segment().sizeBytes(), file);
        List<String> problems = IntegrityScrub.check(file, m.segment());
        if (!problems.isEmpty()) {
          throw new Failed(String.join("; ", problems));
        }
        long[] at = {next};
        SegmentStore.forEachRecord(
            file, r -> tree.append(at[0]++ - 1, Hashes.leafHash(r.header())));
        byte[] root = tree.root(m.segment().lastIndex());
        TreeHead head = m.head();
        if (head.treeSize() != m.segment().lastIndex()
            || !MessageDigest.isEqual(head.rootHash(), root)) {
          throw new Failed(
              where
                  + ": the tree of entries 1.."
                  + m.segment().lastIndex()
                  + " recomputed from the archive has root "
                  + Hashes.hex(root)
                  + ", the signed head says "
                  + Hashes.hex(head.rootHash())
                  + " for "
                  + head.treeSize()
                  + " entries");
        }
        trust.check(head);
        visitor.visit(m, file);
      } catch (IOException e) {
        throw new Failed(where + ": " + e.getMessage());
      } finally {
        Files.deleteIfExists(file);
      }
      last = m.head();
      next = m.segment().lastIndex() + 1;
      expectedId++;
    }
    Optional<TreeHead> latest = latestHead(archive);
    if (latest.isPresent()) {
      TreeHead h = latest.get();
      trust.check(h);
      // A newest head inside the archived range must carry the archive's root at its size: else
      // the archive and what the members signed have parted (or the head is an old one, replayed).
      if (h.treeSize() <= last.treeSize()
          && !MessageDigest.isEqual(h.rootHash(), tree.root(h.treeSize()))) {
        throw new Failed(
            "the newest published head (size "
                + h.treeSize()
                + ") has another root than the archive at that size");
      }
    }
    return new Result(manifests.size(), next - 1, last.rootHash(), last, latest);
  }

  private static List<ArchiveManifest> manifests(S3Archive archive) throws IOException, Failed {
    List<ArchiveManifest> out = new ArrayList<>();
    for (String key : join(archive.list("manifest/"))) {
      byte[] body =
          join(archive.getSmall(key)).orElseThrow(() -> new IOException(key + " vanished"));
      try {
        out.add(ArchiveManifest.fromJson(new JsonObject(new String(body, StandardCharsets.UTF_8))));
      } catch (DecodeException | IllegalArgumentException e) {
        throw new Failed("manifest object " + key + " is malformed: " + e.getMessage());
      }
    }
    out.sort(Comparator.comparingLong(m -> m.segment().id()));
    return out;
  }

  private static Optional<TreeHead> latestHead(S3Archive archive) throws IOException, Failed {
    Optional<byte[]> body = join(archive.getSmall(archive.latestHeadKey()));
    if (body.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          TreeHead.fromJson(new JsonObject(new String(body.get(), StandardCharsets.UTF_8))));
    } catch (DecodeException | IllegalArgumentException e) {
      throw new Failed("the newest published head is malformed: " + e.getMessage());
    }
  }

  /** Waits for an S3 call; its failure becomes an IOException naming the cause. */
  private static <T> T join(java.util.concurrent.CompletableFuture<T> call) throws IOException {
    try {
      return call.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      throw new IOException("the archive cannot be read: " + cause.getMessage(), cause);
    }
  }
}
