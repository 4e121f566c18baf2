package io.scribeledger.error;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps any failure to the error a client sees; an unexpected one is logged once with a correlation
 * id.
 */
public final class Failures {

  private static final Logger LOG = LoggerFactory.getLogger(Failures.class);

  private Failures() {}

  /**
   * One line for an operator: the message, or the exception's class and where it was thrown when it
   * has none (an IndexOutOfBoundsException inside a store says more than "null").
   */
  public static String describe(Throwable t) {
    if (t.getMessage() != null) {
      return t.getMessage();
    }
    // The first frame outside the JDK: where in the node, or in which library, it went wrong.
    for (StackTraceElement e : t.getStackTrace()) {
      if (!e.getClassName().startsWith("java.") && !e.getClassName().startsWith("jdk.")) {
        return t.getClass().getName() + " at " + e.getClassName() + "." + e.getMethodName();
      }
    }
    return t.getClass().getName();
  }

  public static ApiError toApiError(Throwable failure) {
    Throwable cause = failure;
    // Futures wrap what a stage threw; the API error is the first LedgerException inside.
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof LedgerException le) {
      return le.error();
    }
    if (cause instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT) {
      return ApiError.of(
          ErrorCode.TIMEOUT,
          "the ledger did not answer in time; the outcome of a write is unknown,"
              + " look the key's history up before retrying");
    }
    String id = UUID.randomUUID().toString();
    LOG.error("internal error {}: {}", id, String.valueOf(cause), cause);
    return ApiError.of(ErrorCode.INTERNAL, "internal error; correlation id " + id);
  }
}
