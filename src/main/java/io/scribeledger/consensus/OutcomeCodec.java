package io.scribeledger.consensus;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.ledger.Bytes;
import io.scribeledger.ledger.Op;
import io.scribeledger.ledger.Receipt;
import io.scribeledger.ledger.SegmentArchived;
import io.scribeledger.ledger.SegmentInfo;
import io.scribeledger.ledger.WriteOutcome;
import io.scribeledger.merkle.Hashes;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Binary form of a {@link WriteOutcome}, the reply the state machine sends back through Raft. */
public final class OutcomeCodec {

  private static final byte APPLIED = 1;
  private static final byte REJECTED = 2;
  private static final byte SEALED = 3;
  private static final byte REGISTERED = 4;
  private static final byte BATCHED = 5;
  private static final byte ARCHIVED = 6;
  private static final byte HEAD_CONFIRMED = 7;

  private OutcomeCodec() {}

  public static byte[] encode(WriteOutcome outcome) {
    if (outcome instanceof WriteOutcome.Applied a) {
      Receipt r = a.receipt();
      byte[] key = Bytes.utf8(r.key());
      ByteBuffer b = ByteBuffer.allocate(1 + Bytes.sizeOf(key) + 1 + 8 * 4 + Hashes.SIZE * 3);
      b.put(APPLIED);
      Bytes.put(b, key);
      b.put((byte) r.op().code())
          .putLong(r.version())
          .putLong(r.index())
          .putLong(r.timestamp())
          .put(r.valueSha256())
          .put(r.leafHash())
          .putLong(r.treeSize())
          .put(r.rootHash());
      return b.array();
    }
    if (outcome instanceof WriteOutcome.Registered) {
      return new byte[] {REGISTERED};
    }
    if (outcome instanceof WriteOutcome.HeadConfirmed) {
      return new byte[] {HEAD_CONFIRMED};
    }
    if (outcome instanceof WriteOutcome.Batched batched) {
      List<byte[]> parts = new ArrayList<>();
      batched.outcomes().forEach(o -> parts.add(encode(o)));
      return Bytes.list(BATCHED, parts);
    }
    if (outcome instanceof WriteOutcome.Sealed sealed) {
      return ByteBuffer.allocate(1 + 8).put(SEALED).putLong(sealed.segment().id()).array();
    }
    if (outcome instanceof WriteOutcome.Archived archived) {
      byte[] record = archived.record().encode();
      return ByteBuffer.allocate(2 + record.length)
          .put(ARCHIVED)
          .put((byte) (archived.first() ? 1 : 0))
          .put(record)
          .array();
    }
    ApiError error = ((WriteOutcome.Rejected) outcome).error();
    byte[] code = Bytes.utf8(error.code().name());
    byte[] msg = Bytes.utf8(error.message());
    ByteBuffer b = ByteBuffer.allocate(1 + Bytes.sizeOf(code) + Bytes.sizeOf(msg) + 8);
    b.put(REJECTED);
    Bytes.put(b, code);
    Bytes.put(b, msg);
    b.putLong(error.index());
    return b.array();
  }

  public static WriteOutcome decode(ByteBuffer b) {
    byte kind = b.get();
    if (kind == APPLIED) {
      String key = Bytes.getString(b);
      Op op = Op.fromCode(b.get());
      long version = b.getLong();
      long index = b.getLong();
      long timestamp = b.getLong();
      byte[] valueSha = Bytes.getFixed(b, Hashes.SIZE);
      byte[] leaf = Bytes.getFixed(b, Hashes.SIZE);
      long treeSize = b.getLong();
      byte[] root = Bytes.getFixed(b, Hashes.SIZE);
      return new WriteOutcome.Applied(
          new Receipt(key, op, version, index, timestamp, valueSha, leaf, treeSize, root));
    }
    if (kind == REJECTED) {
      ErrorCode code = ErrorCode.valueOf(Bytes.getString(b));
      String msg = Bytes.getString(b);
      return new WriteOutcome.Rejected(new ApiError(code, msg, b.getLong()));
    }
    if (kind == BATCHED) {
      List<WriteOutcome> outcomes = new ArrayList<>();
      for (byte[] part : Bytes.getList(b)) {
        outcomes.add(decode(ByteBuffer.wrap(part)));
      }
      return new WriteOutcome.Batched(outcomes);
    }
    if (kind == REGISTERED) {
      return new WriteOutcome.Registered();
    }
    if (kind == HEAD_CONFIRMED) {
      return new WriteOutcome.HeadConfirmed();
    }
    if (kind == SEALED) {
      // The proposer only needs to know the seal happened; the manifest holds the details.
      return new WriteOutcome.Sealed(new SegmentInfo(b.getLong(), 0, 0, new byte[0], 0, 0));
    }
    if (kind == ARCHIVED) {
      boolean first = b.get() == 1;
      return new WriteOutcome.Archived(SegmentArchived.decode(b), first);
    }
    throw new IllegalArgumentException("unknown outcome kind " + kind);
  }
}
