package io.scribeledger.ledger;

import io.scribeledger.merkle.Hashes;
import io.scribeledger.storage.SegmentStore;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a snapshot holds besides its linked files: how far each file reaches, the Raft position, the
 * tree root a restore must reproduce, and the replicated data that is not derived from the entries
 * (the segment manifest, the archived copies of segments and the registered members). Key lookups
 * are not in it: a restore rebuilds them from the entries.
 */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record SnapshotMeta(
    long size,
    long raftTerm,
    long raftIndex,
    SegmentStore.Position position,
    byte[] rootHash,
    List<SegmentInfo> segments,
    Map<String, String> members,
    List<SegmentArchived> archived) {

  static final String FILE = "ledger.meta";
  private static final int MAGIC_V1 = 0x53434d31; // "SCM1": no archive records
  private static final int MAGIC = 0x53434d32; // "SCM2"

  void write(Path dir) throws IOException {
    Path file = dir.resolve(FILE);
    try (FileOutputStream fos = new FileOutputStream(file.toFile());
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(fos))) {
      out.writeInt(MAGIC);
      out.writeLong(size);
      out.writeLong(raftTerm);
      out.writeLong(raftIndex);
      out.writeLong(position.segmentId());
      out.writeLong(position.length());
      out.write(rootHash);
      out.writeInt(segments.size());
      for (SegmentInfo s : segments) {
        out.write(s.encode());
      }
      out.writeInt(members.size());
      for (Map.Entry<String, String> m : new TreeMap<>(members).entrySet()) {
        out.writeUTF(m.getKey());
        out.writeUTF(m.getValue());
      }
      out.writeInt(archived.size());
      for (SegmentArchived a : archived) {
        byte[] raw = a.encode();
        out.writeInt(raw.length);
        out.write(raw);
      }
      out.flush();
      fos.getFD().sync();
    }
  }

  static SnapshotMeta read(Path dir) throws IOException {
    Path file = dir.resolve(FILE);
    if (!Files.exists(file)) {
      throw new IOException(
          dir + " has no " + FILE + ": not a snapshot of this version of Scribe Ledger");
    }
    try (DataInputStream in =
        new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
      int magic = in.readInt();
      if (magic != MAGIC && magic != MAGIC_V1) {
        throw new IOException(file + " is not a Scribe Ledger snapshot description");
      }
      long size = in.readLong();
      long term = in.readLong();
      long index = in.readLong();
      SegmentStore.Position position = new SegmentStore.Position(in.readLong(), in.readLong());
      byte[] root = bytes(in, Hashes.SIZE);
      int segmentCount = in.readInt();
      if (segmentCount < 0) {
        throw new IOException(file + " counts " + segmentCount + " segments");
      }
      List<SegmentInfo> segments = new ArrayList<>();
      for (int i = 0; i < segmentCount; i++) {
        segments.add(SegmentInfo.decode(bytes(in, SegmentInfo.BYTES)));
      }
      int memberCount = in.readInt();
      Map<String, String> members = new TreeMap<>();
      for (int i = 0; i < memberCount; i++) {
        members.put(in.readUTF(), in.readUTF());
      }
      List<SegmentArchived> archived = new ArrayList<>();
      int archivedCount = magic == MAGIC_V1 ? 0 : in.readInt();
      if (archivedCount < 0 || archivedCount > segmentCount) {
        throw new IOException(file + " counts " + archivedCount + " archived segments");
      }
      for (int i = 0; i < archivedCount; i++) {
        int length = in.readInt();
        if (length < 0 || length > 4096) {
          throw new IOException(file + " holds an archive record of " + length + " bytes");
        }
        try {
          archived.add(SegmentArchived.decode(java.nio.ByteBuffer.wrap(bytes(in, length))));
        } catch (IllegalArgumentException e) {
          throw new IOException(file + ": " + e.getMessage(), e);
        }
      }
      return new SnapshotMeta(size, term, index, position, root, segments, members, archived);
    } catch (java.io.EOFException e) {
      throw new IOException(file + " is cut short", e);
    }
  }

  private static byte[] bytes(DataInputStream in, int length) throws IOException {
    byte[] b = new byte[length];
    in.readFully(b);
    return b;
  }
}
