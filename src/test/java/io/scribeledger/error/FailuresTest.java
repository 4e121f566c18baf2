package io.scribeledger.error;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * An API error survives being wrapped by futures; anything else is internal with a correlation id.
 */
class FailuresTest {

  @Test
  void wrappedApiErrorsKeepTheirCode() {
    LedgerException timeout = ApiError.of(ErrorCode.TIMEOUT, "slow").exception();
    assertEquals(ErrorCode.TIMEOUT, Failures.toApiError(new CompletionException(timeout)).code());
    assertEquals(
        ErrorCode.TIMEOUT,
        Failures.toApiError(new ExecutionException(new CompletionException(timeout))).code());
    assertEquals(
        ErrorCode.NO_LEADER, Failures.toApiError(ErrorCode.NO_LEADER.error("none")).code());
  }

  @Test
  void unexpectedFailuresAreInternalWithACorrelationId() {
    ApiError e = Failures.toApiError(new CompletionException(new IllegalStateException("bug")));
    assertEquals(ErrorCode.INTERNAL, e.code());
    assertTrue(e.message().contains("correlation id"), e.message());
  }
}
