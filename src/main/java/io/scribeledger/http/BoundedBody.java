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

  /**
   * Reads the body within the limit, holding its bytes against the node's in-flight cap from the
   * first byte until the response is sent (so a write waiting for Raft counts too); over the cap
   * the request is answered 429 {@code overloaded} and the connection closed.
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
  private static void refuse(RoutingContext ctx, ErrorCode code, String message) {
    ctx.response().putHeader("Connection", "close");
    ErrorResponses.send(ctx, code, message);
  }
}
