package io.scribeledger.error;

/**
 * An error a client sees: its code, a message for a person and, for {@code deleted}, the index of
 * the tombstone ({@code 0} when not relevant).
 */
public record ApiError(ErrorCode code, String message, long index) {

  public static ApiError of(ErrorCode code, String message) {
    return new ApiError(code, message, 0);
  }

  /** This error as an exception, for failing a {@code Future}. */
  public LedgerException exception() {
    return new LedgerException(this);
  }
}
