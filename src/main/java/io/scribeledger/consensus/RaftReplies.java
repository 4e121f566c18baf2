package io.scribeledger.consensus;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.LedgerException;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.StateMachineException;

/** What a Ratis reply, or the failure of a request, means to the API's caller. */
final class RaftReplies {

  private RaftReplies() {}

  /** Fails at once: this node knows no leader to send the request to. */
  static <T> CompletableFuture<T> noLeader() {
    return CompletableFuture.failedFuture(
        ErrorCode.NO_LEADER.error("no Raft leader is known; retry shortly"));
  }

  /**
   * The reply of a request for {@code what} ("write", "read", "record") when it succeeded; else
   * throws what the API answers: 503 no leader, 507, 429, or a timeout whose outcome is unknown.
   */
  static RaftClientReply checked(RaftClientReply reply, Throwable error, String what) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause == null && reply != null && !reply.isSuccess()) {
      cause = reply.getException();
    }
    if (cause == null) {
      return reply;
    }
    if (cause instanceof LedgerException le) {
      throw le;
    }
    if (cause instanceof NotLeaderException || cause instanceof LeaderNotReadyException) {
      throw ApiError.of(
              ErrorCode.NO_LEADER, "no Raft leader could take the " + what + "; retry shortly")
          .exception();
    }
    // A StateMachineException (a RaftException) stays "outcome unknown": it is also what a
    // client hears when a failed leader could not apply an entry that others will.
    if (cause instanceof StateMachineException
        && String.valueOf(cause.getMessage()).contains(LedgerStateMachine.INSUFFICIENT_STORAGE)) {
      String m = cause.getMessage();
      throw ErrorCode.INSUFFICIENT_STORAGE.error(
          m.substring(m.indexOf(LedgerStateMachine.INSUFFICIENT_STORAGE))
              + "; nothing was written, retry once space is freed");
    }
    if (cause instanceof ResourceUnavailableException) {
      // The leader holds as many pending writes as it takes; this one was not taken.
      throw ErrorCode.OVERLOADED.error(
          "the Raft leader holds as many pending writes as it takes; nothing was written, retry");
    }
    if (cause instanceof RaftException
        || cause instanceof IOException
        || cause instanceof TimeoutException) {
      throw ApiError.of(
              ErrorCode.TIMEOUT,
              "the "
                  + what
                  + " did not complete in time ("
                  + cause.getClass().getSimpleName()
                  + ("read".equals(what)
                      ? "); nothing was changed, retry"
                      : "); its outcome is unknown, look the key's history up before retrying"))
          .exception();
    }
    throw new CompletionException(cause);
  }
}
