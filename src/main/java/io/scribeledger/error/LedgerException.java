package io.scribeledger.error;

/** Carries an {@link ApiError} through a failed {@code Future}; no stack trace, it is not a bug. */
public final class LedgerException extends RuntimeException {
  private final ApiError error;

  public LedgerException(ApiError error) {
    super(error.code().code() + ": " + error.message(), null, false, false);
    this.error = error;
  }

  public ApiError error() {
    return error;
  }
}
