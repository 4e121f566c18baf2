package io.scribeledger.error;

/** The closed set of error codes of API.md, each with its HTTP status. */
public enum ErrorCode {
  INVALID_KEY(400, "invalid_key"),
  INVALID_REQUEST(400, "invalid_request"),
  /** The HTTP request itself could not be parsed; the connection is closed after the answer. */
  BAD_REQUEST(400, "bad_request"),
  /** A request line longer than the decoder takes; the code says why it could not be parsed. */
  URI_TOO_LONG(414, "bad_request"),
  /** Request headers larger than the decoder takes; the code says why it could not be parsed. */
  HEADERS_TOO_LARGE(431, "bad_request"),
  /** No bearer token, or one the node does not know. */
  UNAUTHORIZED(401, "unauthorized"),
  /** A valid token whose role or key prefixes do not allow the request. */
  FORBIDDEN(403, "forbidden"),
  NOT_FOUND(404, "not_found"),
  DELETED(404, "deleted"),
  METHOD_NOT_ALLOWED(405, "method_not_allowed"),
  /** A request body arrived too slowly; the connection is closed. */
  REQUEST_TIMEOUT(408, "request_timeout"),
  PRECONDITION_FAILED(412, "precondition_failed"),
  VALUE_TOO_LARGE(413, "value_too_large"),
  /** The node's open connections or bytes in flight are at their cap; retry after a moment. */
  OVERLOADED(429, "overloaded"),
  /** This caller (token, or address without one) is over its configured rate; see Retry-After. */
  RATE_LIMITED(429, "rate_limited"),
  /** Free disk space is below {@code storage.minFreeBytes}: writes refused before Raft. */
  INSUFFICIENT_STORAGE(507, "insufficient_storage"),
  NO_LEADER(503, "no_leader"),
  TIMEOUT(503, "timeout"),
  UNAVAILABLE(503, "unavailable"),
  INTERNAL(500, "internal");

  private final int status;
  private final String code;

  ErrorCode(int status, String code) {
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  /** This code with a message, as an exception for failing a future or leaving a handler. */
  public LedgerException error(String message) {
    return ApiError.of(this, message).exception();
  }

  /** Whether a client should retry later (503s, 507s and 429s carry {@code Retry-After}). */
  public boolean retryable() {
    return status == 503 || status == 507 || status == 429;
  }
}
