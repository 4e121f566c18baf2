package io.scribeledger.http;

import io.scribeledger.error.ErrorCode;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * Reads a request body up to a limit. A declared {@code Content-Length} over the limit is refused
 * before any byte is read; a chunked body is refused as soon as it crosses the limit. Either way
 * the connection is closed, so an unbounded upload is never buffered.
 */
public final class BoundedBody implements Handler<RoutingContext> {

  private static final String KEY = "scribe.body";
  private final long limit;
  private final Admission admission;

  public BoundedBody(long limit, Admission admission) {
    this.limit = limit;
    this.admission = admission;
  }

  /** The body read for this request (empty when none was sent). */
  public static Buffer of(RoutingContext ctx) {
    Buffer body = ctx.get(KEY);
    return body == null ? Buffer.buffer() : body;
  }

  /** A body must keep arriving at this rate, or it is cut: it holds memory others could use. */
  static final long MIN_BYTES_PER_SECOND = 16 * 1024;

  /** How often a body's rate is checked (and so the grace a client has before its first check). */
  static final long RATE_WINDOW_MS = 5_000;

  /**
   * Reads the body within the limit. A declared {@code Content-Length} is reserved against the
   * node's in-flight cap before any byte is read (first come, first served: an admitted upload can
   * always finish; over the cap it is answered 429 {@code overloaded} at once), a chunked body
   * chunk by chunk; what is reserved is held until the response is sent, so a write waiting for
   * Raft counts too. A body that arrives slower than {@link #MIN_BYTES_PER_SECOND} is cut with 408,
   * so slow clients cannot sit on the budget.
   */
  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    long[] held = {0};
    ctx.addEndHandler(done -> admission.release(held[0]));
    String declared = request.getHeader("Content-Length");
    if (declared != null) {
      long length;
      try {
        length = Long.parseLong(declared.trim());
      } catch (NumberFormatException e) {
        ErrorResponses.send(ctx, ErrorCode.INVALID_REQUEST, "Content-Length is not a number");
        return;
      }
      if (length > limit) {
        refuse(
            ctx,
            ErrorCode.VALUE_TOO_LARGE,
            "value is " + length + " bytes; the limit is " + limit + " bytes");
        return;
      }
      if (!admission.reserve(length)) {
        overloaded(ctx);
        return;
      }
      held[0] = length;
    }
    Buffer body = Buffer.buffer();
    boolean[] refused = {false};
    long[] checkedAt = {0};
    long rateTimer =
        ctx.vertx()
            .setPeriodic(
                RATE_WINDOW_MS,
                t -> {
                  long arrived = body.length() - checkedAt[0];
                  checkedAt[0] = body.length();
                  if (!refused[0] && arrived < MIN_BYTES_PER_SECOND * RATE_WINDOW_MS / 1000) {
                    refused[0] = true;
                    refuse(
                        ctx,
                        ErrorCode.REQUEST_TIMEOUT,
                        "the request body arrives slower than "
                            + MIN_BYTES_PER_SECOND
                            + " bytes a second");
                  }
                });
    ctx.addEndHandler(done -> ctx.vertx().cancelTimer(rateTimer));
    request.handler(
        chunk -> {
          if (refused[0]) {
            return;
          }
          if ((long) body.length() + chunk.length() > limit) {
            refused[0] = true;
            refuse(
                ctx,
                ErrorCode.VALUE_TOO_LARGE,
                "value exceeds the limit; the limit is " + limit + " bytes");
            return;
          }
          if (declared == null) {
            if (!admission.reserve(chunk.length())) {
              refused[0] = true;
              overloaded(ctx);
              return;
            }
            held[0] += chunk.length();
          }
          body.appendBuffer(chunk);
        });
    request.exceptionHandler(e -> refused[0] = true);
    request.endHandler(
        v -> {
          ctx.vertx().cancelTimer(rateTimer);
          if (!refused[0]) {
            ctx.put(KEY, body);
            ctx.next();
          }
        });
    request.resume();
  }

  private void overloaded(RoutingContext ctx) {
    refuse(
        ctx,
        ErrorCode.OVERLOADED,
        "the node holds as many request bytes in flight as it takes (http.maxInFlightBytes); retry");
  }

  /** Answers and closes the connection, so the rest of the body is never read or buffered. */
  static void refuse(RoutingContext ctx, ErrorCode code, String message) {
    HttpServerRequest request = ctx.request();
    ctx.response().putHeader("Connection", "close");
    ErrorResponses.send(ctx, code, message);
    // A client still sending would lose the answer if the connection closed under it: what it
    // sends is dropped (never buffered) until its body ends, or for DRAIN_MS at most.
    long drain = ctx.vertx().setTimer(DRAIN_MS, t -> request.connection().close());
    request.handler(dropped -> {});
    request.endHandler(
        ended -> {
          ctx.vertx().cancelTimer(drain);
          request.connection().close();
        });
    request.resume();
  }

  /** How long a refused request's body is read and dropped before its connection is closed. */
  static final long DRAIN_MS = 2_000;
}
