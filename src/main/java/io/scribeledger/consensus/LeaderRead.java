package io.scribeledger.consensus;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The leader's answer to a linearizable read barrier: the Raft index a reader must have applied
 * before it reads, or why the leader cannot give one now. Every barrier, a follower's or a
 * listener's too, asks the leader for it with a read-only Raft query, so that each goes through the
 * leader's {@link LeaderConfirmation}: Ratis answers a follower's own ReadIndex request from a
 * confirmation of any age, so a member on a deposed leader's side of a split could serve a stale
 * read. This is the whole wire format of that query and its answer.
 */
sealed interface LeaderRead {

  /** The query a barrier sends to the leader (a lone tag byte: {@code query} sees nothing else). */
  Message REQUEST = Message.valueOf(ByteString.copyFrom(new byte[] {'L'}));

  /** Read once this Raft index is applied: the leader's commit index when it was confirmed. */
  record ReadFrom(long raftIndex) implements LeaderRead {}

  /** The member asked leads but cannot confirm it now (it lacks answers, or it is stopping). */
  record Refused(String reason) implements LeaderRead {}

  /** The member asked does not lead: the reader asks the leader it learns of instead. */
  record NotLeading() implements LeaderRead {}

  /**
   * A leader of an earlier version answered the query as every read-only query before it: empty,
   * with no index. The reader falls back to Ratis's own ReadIndex, as that version did.
   */
  record Unanswered() implements LeaderRead {}

  static boolean isRequest(Message query) {
    return query.getContent().equals(REQUEST.getContent());
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
    } else if (tag == 'N') {
      return new Refused(reply.substring(1).toStringUtf8());
    }
    throw new IllegalArgumentException(
        "not a leader's read answer (" + reply.size() + " bytes, tag " + tag + ")");
  }
}
