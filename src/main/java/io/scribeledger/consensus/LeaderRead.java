package io.scribeledger.consensus;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The leader's answer to a linearizable read barrier: the Raft index a reader must have applied
 * before it reads, or why the leader cannot give one now (and the one other thing a member asks the
 * leader this way: {@link #HANDOVER}). Every barrier, a follower's or a listener's too, asks the
 * leader for it with a read-only Raft query, so that each goes through the leader's {@link
 * LeaderConfirmation}: Ratis answers a follower's own ReadIndex request from a confirmation of any
 * age, so a member on a deposed leader's side of a split could serve a stale read. This is the
 * whole wire format of that query and its answer.
 */
sealed interface LeaderRead {

  /** The query a barrier sends to the leader (a lone tag byte: {@code query} sees nothing else). */
  Message REQUEST = Message.valueOf(ByteString.copyFrom(new byte[] {'L'}));

  /**
   * The query a member sends the leader before it asks Ratis to move that leader's leadership
   * ({@code POST /cluster/leave} naming the leader, sent to another member). The leader then counts
   * none of its followers' answers until the transfer could have ended, as before a handover of its
   * own ({@link LeaderConfirmation#handOver}): the new leader's election skips pre-vote, so
   * followers may vote for it while the old leader's answers still look fresh. A leader answers
   * {@link HandingOver}, any other member {@link NotLeading}, a leader of an earlier version
   * nothing.
   */
  Message HANDOVER = Message.valueOf(ByteString.copyFrom(new byte[] {'H'}));

  /** What a query asks the leader. */
  enum Ask {
    /** The index a read barrier waits for: {@link #REQUEST}. */
    READ_INDEX,
    /** To stop counting earlier answers before its leadership is moved: {@link #HANDOVER}. */
    HANDOVER
  }

  /** Read once this Raft index is applied: the leader's commit index when it was confirmed. */
  record ReadFrom(long raftIndex) implements LeaderRead {}

  /** The member asked leads but cannot confirm it now (it lacks answers, or it is stopping). */
  record Refused(String reason) implements LeaderRead {}

  /** The member asked does not lead: the reader asks the leader it learns of instead. */
  record NotLeading() implements LeaderRead {}

  /**
   * The leader took a {@link #HANDOVER} notice: it counts no earlier answer until its leadership
   * has moved or the transfer has timed out ({@link LeaderConfirmation#handOver}).
   */
  record HandingOver() implements LeaderRead {}

  /**
   * A leader of an earlier version answered the query as every read-only query before it: empty,
   * with no index. The reader falls back to Ratis's own ReadIndex, as that version did.
   */
  record Unanswered() implements LeaderRead {}

  /** What {@code query} asks, or empty for bytes that are neither of the queries above. */
  static Optional<Ask> ask(Message query) {
    if (query.getContent().equals(REQUEST.getContent())) {
      return Optional.of(Ask.READ_INDEX);
    }
    if (query.getContent().equals(HANDOVER.getContent())) {
      return Optional.of(Ask.HANDOVER);
    }
    return Optional.empty();
  }

  /** The answer as the query's reply. */
  default Message toMessage() {
    if (this instanceof ReadFrom r) {
      return Message.valueOf(
          ByteString.copyFrom(
              ByteBuffer.allocate(9).put((byte) 'R').putLong(r.raftIndex()).flip()));
    }
    if (this instanceof NotLeading) {
      return Message.valueOf(ByteString.copyFrom(new byte[] {'F'}));
    }
    if (this instanceof HandingOver) {
      return Message.valueOf(ByteString.copyFrom(new byte[] {'H'}));
    }
    if (this instanceof Refused r) {
      return Message.valueOf(
          ByteString.copyFrom(new byte[] {'N'})
              .concat(ByteString.copyFrom(r.reason(), StandardCharsets.UTF_8)));
    }
    return Message.EMPTY;
  }

  /** Reads a reply; anything else than {@link #toMessage} writes is refused. */
  static LeaderRead decode(ByteString reply) {
    if (reply.isEmpty()) {
      return new Unanswered();
    }
    byte tag = reply.byteAt(0);
    if (tag == 'R' && reply.size() == 9) {
      long index = reply.substring(1).asReadOnlyByteBuffer().getLong();
      if (index >= 0) {
        return new ReadFrom(index);
      }
    } else if (tag == 'F' && reply.size() == 1) {
      return new NotLeading();
    } else if (tag == 'H' && reply.size() == 1) {
      return new HandingOver();
    } else if (tag == 'N') {
      return new Refused(reply.substring(1).toStringUtf8());
    }
    throw new IllegalArgumentException(
        "not a leader's read answer (" + reply.size() + " bytes, tag " + tag + ")");
  }
}
