package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.Condition;
import io.scribeledger.ledger.HeadCheck;
import io.scribeledger.ledger.Op;
import io.scribeledger.ledger.Receipt;
import io.scribeledger.ledger.StampedCommand;
import io.scribeledger.ledger.WriteOutcome;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/** The Raft log and reply encodings round-trip, and malformed bytes are refused, never misread. */
class CodecTest {

  static byte[] stamped(long ts, io.scribeledger.ledger.Proposal c) {
    byte[] stamp = CommandCodec.stamp(ts);
    byte[] body = CommandCodec.encode(c);
    byte[] out = Arrays.copyOf(stamp, stamp.length + body.length);
    System.arraycopy(body, 0, out, stamp.length, body.length);
    return out;
  }

  @Test
  void putWithIfMatchRoundTrips() {
    byte[] hash = new byte[32];
    hash[5] = 9;
    Command put =
        new Command.Put(
            "ключ",
            "text/plain",
            "v".getBytes(StandardCharsets.UTF_8),
            new Condition.IfMatch(hash));
    StampedCommand decoded = CommandCodec.decodeStamped(ByteBuffer.wrap(stamped(123L, put)));
    assertEquals(123L, decoded.timestamp());
    Command.Put p = assertInstanceOf(Command.Put.class, decoded.proposal());
    assertEquals("ключ", p.key());
    assertEquals("text/plain", p.contentType());
    assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), p.value());
    assertArrayEquals(hash, assertInstanceOf(Condition.IfMatch.class, p.condition()).leafHash());
  }

  @Test
  void deleteWithIfAbsentRoundTrips() {
    StampedCommand decoded =
        CommandCodec.decodeStamped(
            ByteBuffer.wrap(stamped(5L, new Command.Delete("k", new Condition.IfAbsent()))));
    assertInstanceOf(
        Condition.IfAbsent.class,
        assertInstanceOf(Command.Delete.class, decoded.proposal()).condition());
  }

  @Test
  void truncatedOrGarbageEntriesAreRefused() {
    byte[] good = stamped(1L, new Command.Put("key", "ct", new byte[100], Condition.NONE));
    for (int len = 0; len < good.length; len++) {
      byte[] cut = Arrays.copyOf(good, len);
      assertThrows(
          IllegalArgumentException.class,
          () -> CommandCodec.decodeStamped(ByteBuffer.wrap(cut)),
          "length " + len);
    }
    Random random = new Random(1);
    for (int i = 0; i < 200; i++) {
      byte[] garbage = new byte[1 + random.nextInt(64)];
      random.nextBytes(garbage);
      garbage[0] = 1;
      try {
        CommandCodec.decodeStamped(ByteBuffer.wrap(garbage));
      } catch (IllegalArgumentException expected) {
        // refused: fine. Decoding without an exception is fine too, as long as nothing else is
        // thrown.
      }
    }
  }

  @Test
  void headChecksRoundTripAndTruncatedOnesAreRefused() {
    byte[] root = new byte[32];
    root[31] = 7;
    byte[] good = stamped(5L, new HeadCheck(1234, root));
    HeadCheck back =
        assertInstanceOf(
            HeadCheck.class, CommandCodec.decodeStamped(ByteBuffer.wrap(good)).proposal());
    assertEquals(1234, back.size());
    assertArrayEquals(root, back.root());
    for (int len = CommandCodec.STAMP_BYTES; len < good.length; len++) {
      byte[] cut = Arrays.copyOf(good, len);
      assertThrows(
          IllegalArgumentException.class,
          () -> CommandCodec.decodeStamped(ByteBuffer.wrap(cut)),
          "length " + len);
    }
    assertInstanceOf(
        WriteOutcome.HeadConfirmed.class,
        OutcomeCodec.decode(
            ByteBuffer.wrap(OutcomeCodec.encode(new WriteOutcome.HeadConfirmed()))));
  }

  @Test
  void outcomesRoundTrip() {
    Receipt r =
        new Receipt("k", Op.DELETE, 3, 10, 99, new byte[32], new byte[32], 10, new byte[32]);
    WriteOutcome.Applied a =
        assertInstanceOf(
            WriteOutcome.Applied.class,
            OutcomeCodec.decode(ByteBuffer.wrap(OutcomeCodec.encode(new WriteOutcome.Applied(r)))));
    assertEquals(r.key(), a.receipt().key());
    assertEquals(Op.DELETE, a.receipt().op());
    assertEquals(10, a.receipt().treeSize());
    WriteOutcome.Rejected rej =
        assertInstanceOf(
            WriteOutcome.Rejected.class,
            OutcomeCodec.decode(
                ByteBuffer.wrap(
                    OutcomeCodec.encode(
                        new WriteOutcome.Rejected(new ApiError(ErrorCode.DELETED, "gone", 7))))));
    assertEquals(new ApiError(ErrorCode.DELETED, "gone", 7), rej.error());
  }

  @Test
  void batchesRoundTripInOrder() {
    java.util.List<Command> commands =
        java.util.List.of(
            new Command.Put("a", "text/plain", new byte[] {1, 2}, Condition.NONE),
            new Command.Delete("b", new Condition.IfAbsent()),
            new Command.Put("c", "x/y", new byte[0], new Condition.IfMatch(new byte[32])));
    io.scribeledger.ledger.Batch decoded =
        assertInstanceOf(
            io.scribeledger.ledger.Batch.class,
            CommandCodec.decodeStamped(
                    ByteBuffer.wrap(stamped(9L, new io.scribeledger.ledger.Batch(commands))))
                .proposal());
    assertEquals(3, decoded.commands().size());
    assertEquals("b", decoded.commands().get(1).key());
    assertInstanceOf(Command.Delete.class, decoded.commands().get(1));
    WriteOutcome.Batched outcomes =
        assertInstanceOf(
            WriteOutcome.Batched.class,
            OutcomeCodec.decode(
                ByteBuffer.wrap(
                    OutcomeCodec.encode(
                        new WriteOutcome.Batched(
                            java.util.List.of(
                                new WriteOutcome.Rejected(
                                    ApiError.of(ErrorCode.PRECONDITION_FAILED, "no")),
                                new WriteOutcome.Applied(
                                    new Receipt(
                                        "a",
                                        Op.PUT,
                                        1,
                                        1,
                                        9,
                                        new byte[32],
                                        new byte[32],
                                        1,
                                        new byte[32]))))))));
    assertEquals(
        ErrorCode.PRECONDITION_FAILED,
        assertInstanceOf(WriteOutcome.Rejected.class, outcomes.outcomes().get(0)).error().code());
    assertEquals(
        "a",
        assertInstanceOf(WriteOutcome.Applied.class, outcomes.outcomes().get(1)).receipt().key());
  }

  @Test
  void leaderReadAnswersRoundTripAndOthersAreRefused() {
    for (LeaderRead answer :
        new LeaderRead[] {
          new LeaderRead.ReadFrom(0),
          new LeaderRead.ReadFrom(Long.MAX_VALUE),
          new LeaderRead.Refused("a majority of the group has not answered it lately"),
          new LeaderRead.Refused(""),
          new LeaderRead.NotLeading()
        }) {
      assertEquals(answer, LeaderRead.decode(answer.toMessage().getContent()));
    }
    // What a member of an earlier version answers: the reader falls back to Ratis's ReadIndex.
    assertInstanceOf(LeaderRead.Unanswered.class, LeaderRead.decode(ByteString.EMPTY));
    assertEquals(ByteString.EMPTY, new LeaderRead.Unanswered().toMessage().getContent());

    ByteString readFrom = new LeaderRead.ReadFrom(42).toMessage().getContent();
    for (int len = 1; len < readFrom.size(); len++) {
      ByteString cut = readFrom.substring(0, len);
      assertThrows(IllegalArgumentException.class, () -> LeaderRead.decode(cut), "length " + len);
    }
    ByteString negative =
        ByteString.copyFrom(ByteBuffer.allocate(9).put((byte) 'R').putLong(-1).flip());
    assertThrows(IllegalArgumentException.class, () -> LeaderRead.decode(negative));
    for (byte tag : new byte[] {0, 'F', 'L', 'x', (byte) 0xff}) {
      ByteString unknown = ByteString.copyFrom(new byte[] {tag, 1});
      assertThrows(IllegalArgumentException.class, () -> LeaderRead.decode(unknown), "tag " + tag);
    }
    // Only the lone tags are queries: an empty query, a longer one or another tag is not.
    assertEquals(Optional.of(LeaderRead.Ask.READ_INDEX), LeaderRead.ask(LeaderRead.REQUEST));
    assertEquals(Optional.of(LeaderRead.Ask.HANDOVER), LeaderRead.ask(LeaderRead.HANDOVER));
    assertEquals(Optional.empty(), LeaderRead.ask(Message.EMPTY));
    for (byte[] bytes : new byte[][] {{'L', 0}, {'H', 0}, {'R'}, {'h'}, {0}}) {
      assertEquals(Optional.empty(), LeaderRead.ask(Message.valueOf(ByteString.copyFrom(bytes))));
    }
  }
}
