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

  public BoundedBody(long limit) {
    this.limit = limit;
  }

  /** The body read for this request (empty when none was sent). */
  public static Buffer of(RoutingContext ctx) {
    Buffer body = ctx.get(KEY);
    return body == null ? Buffer.buffer() : body;
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
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
        tooLarge(ctx, "value is " + length + " bytes");
        return;
      }
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
            tooLarge(ctx, "value exceeds the limit");
            return;
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

  private void tooLarge(RoutingContext ctx, String what) {
    ctx.response().putHeader("Connection", "close");
    ErrorResponses.send(
        ctx, ErrorCode.VALUE_TOO_LARGE, what + "; the limit is " + limit + " bytes");
  }
}
