package io.scribeledger.consensus;

import io.scribeledger.ledger.Batch;
import io.scribeledger.ledger.Bytes;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.Condition;
import io.scribeledger.ledger.HeadCheck;
import io.scribeledger.ledger.Proposal;
import io.scribeledger.ledger.RegisterMember;
import io.scribeledger.ledger.RemoveMember;
import io.scribeledger.ledger.SealSegment;
import io.scribeledger.ledger.SegmentArchived;
import io.scribeledger.ledger.StampedCommand;
import io.scribeledger.merkle.Hashes;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Binary form of a {@link Proposal} as it is proposed, and of the Raft log entry the leader makes
 * of it by stamping the timestamp in front.
 */
public final class CommandCodec {

  private static final byte FORMAT = 1;
  private static final byte PUT = 1;
  private static final byte DELETE = 2;
  private static final byte SEAL = 3;
  private static final byte MEMBER = 4;
  private static final byte BATCH = 5;

  /** A member record with its signing key (MEMBER, kept for logs written before, has none). */
  private static final byte MEMBER_WITH_KEY = 6;

  private static final byte REMOVE_MEMBER = 7;
  private static final byte ARCHIVED = 8;
  private static final byte HEAD_CHECK = 9;
  private static final byte COND_NONE = 0;
  private static final byte COND_ABSENT = 1;
  private static final byte COND_MATCH = 2;

  /** Size of the header the leader puts before a command: format byte and u64 timestamp. */
  public static final int STAMP_BYTES = 1 + 8;

  private CommandCodec() {}

  public static byte[] encode(Proposal proposal) {
    if (proposal instanceof SealSegment) {
      return new byte[] {SEAL};
    }
    if (proposal instanceof Batch batch) {
      List<byte[]> parts = new ArrayList<>(batch.commands().size());
      batch.commands().forEach(c -> parts.add(encode(c)));
      return Bytes.list(BATCH, parts);
    }
    if (proposal instanceof RegisterMember m) {
      byte[] id = Bytes.utf8(m.nodeId());
      byte[] http = Bytes.utf8(m.httpAddress());
      byte[] key = Bytes.utf8(m.publicKey());
      ByteBuffer b =
          ByteBuffer.allocate(1 + Bytes.sizeOf(id) + Bytes.sizeOf(http) + Bytes.sizeOf(key))
              .put(MEMBER_WITH_KEY);
      Bytes.put(b, id);
      Bytes.put(b, http);
      Bytes.put(b, key);
      return b.array();
    }
    if (proposal instanceof SegmentArchived a) {
      byte[] body = a.encode();
      return ByteBuffer.allocate(1 + body.length).put(ARCHIVED).put(body).array();
    }
    if (proposal instanceof HeadCheck check) {
      byte[] body = check.encode();
      return ByteBuffer.allocate(1 + body.length).put(HEAD_CHECK).put(body).array();
    }
    if (proposal instanceof RemoveMember r) {
      byte[] id = Bytes.utf8(r.nodeId());
      ByteBuffer b = ByteBuffer.allocate(1 + Bytes.sizeOf(id)).put(REMOVE_MEMBER);
      Bytes.put(b, id);
      return b.array();
    }
    Command command = (Command) proposal;
    byte[] key = Bytes.utf8(command.key());
    byte[] ct = command instanceof Command.Put p ? Bytes.utf8(p.contentType()) : new byte[0];
    byte[] value = command instanceof Command.Put p ? p.value() : new byte[0];
    int condSize = command.condition() instanceof Condition.IfMatch ? Hashes.SIZE : 0;
    ByteBuffer b =
        ByteBuffer.allocate(
            2 + condSize + Bytes.sizeOf(key) + Bytes.sizeOf(ct) + Bytes.sizeOf(value));
    b.put(command instanceof Command.Put ? PUT : DELETE);
    if (command.condition() instanceof Condition.IfMatch m) {
      b.put(COND_MATCH).put(m.leafHash());
    } else {
      b.put(command.condition() instanceof Condition.IfAbsent ? COND_ABSENT : COND_NONE);
    }
    Bytes.put(b, key);
    Bytes.put(b, ct);
    Bytes.put(b, value);
    return b.array();
  }

  /** Whether an unstamped proposal is a {@link HeadCheck}: its first byte names the kind. */
  public static boolean isHeadCheck(byte firstByte) {
    return firstByte == HEAD_CHECK;
  }

  /** The stamp the leader writes in front of an encoded command. */
  public static byte[] stamp(long timestamp) {
    return ByteBuffer.allocate(STAMP_BYTES).put(FORMAT).putLong(timestamp).array();
  }

  /** Decodes a stamped log entry; throws IllegalArgumentException when it is malformed. */
  public static StampedCommand decodeStamped(ByteBuffer b) {
    try {
      byte format = b.get();
      if (format != FORMAT) {
        throw new IllegalArgumentException("unknown log entry format " + format);
      }
      long timestamp = b.getLong();
      return new StampedCommand(timestamp, decode(b));
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated log entry", e);
    }
  }

  /** Decodes an unstamped proposal, as a client sent it. */
  public static Proposal decode(ByteBuffer b) {
    try {
      byte kind = b.get();
      if (kind == SEAL) {
        return new SealSegment();
      }
      if (kind == BATCH) {
        List<Command> commands = new ArrayList<>();
        for (byte[] part : Bytes.getList(b)) {
          if (!(decode(ByteBuffer.wrap(part)) instanceof Command c)) {
            throw new IllegalArgumentException("a batch holds only client writes");
          }
          commands.add(c);
        }
        return new Batch(commands);
      }
      if (kind == MEMBER) {
        return new RegisterMember(Bytes.getString(b), Bytes.getString(b), "");
      }
      if (kind == MEMBER_WITH_KEY) {
        return new RegisterMember(Bytes.getString(b), Bytes.getString(b), Bytes.getString(b));
      }
      if (kind == ARCHIVED) {
        return SegmentArchived.decode(b);
      }
      if (kind == HEAD_CHECK) {
        return HeadCheck.decode(b);
      }
      if (kind == REMOVE_MEMBER) {
        return new RemoveMember(Bytes.getString(b));
      }
      Condition condition =
          switch (b.get()) {
            case COND_NONE -> Condition.NONE;
            case COND_ABSENT -> new Condition.IfAbsent();
            case COND_MATCH -> new Condition.IfMatch(Bytes.getFixed(b, Hashes.SIZE));
            default -> throw new IllegalArgumentException("unknown condition");
          };
      String key = Bytes.getString(b);
      String ct = Bytes.getString(b);
      byte[] value = Bytes.get(b);
      return switch (kind) {
        case PUT -> new Command.Put(key, ct, value, condition);
        case DELETE -> new Command.Delete(key, condition);
        default -> throw new IllegalArgumentException("unknown command kind " + kind);
      };
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated command", e);
    }
  }
}
