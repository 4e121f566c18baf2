package io.scribeledger.http;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.LedgerException;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes API.md's JSON errors; anything unexpected becomes a logged {@code internal} with a correlation id. */
public final class ErrorResponses {

  private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

  private ErrorResponses() {
  }

  public static void send(RoutingContext ctx, ApiError error) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    JsonObject body = new JsonObject().put("error", error.code().code()).put("message", error.message());
    if (error.code() == ErrorCode.DELETED) {
      body.put("index", error.index());
    }
    if (error.code().retryable()) {
      ctx.response().putHeader("Retry-After", "1");
    }
    Json.send(ctx, error.code().status(), body);
  }

  public static void send(RoutingContext ctx, ErrorCode code, String message) {
    send(ctx, ApiError.of(code, message));
  }

  /** Maps a failed future's cause to its API error. */
  public static void fail(RoutingContext ctx, Throwable cause) {
    send(ctx, toError(cause));
  }

  public static ApiError toError(Throwable cause) {
    if (cause instanceof LedgerException le) {
      return le.error();
    }
    if (cause instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT) {
      return ApiError.of(ErrorCode.TIMEOUT, "the ledger did not answer in time; the outcome of a write is unknown,"
          + " look the key's history up before retrying");
    }
    String id = UUID.randomUUID().toString();
    LOG.error("internal error {}: {}", id, String.valueOf(cause), cause);
    return ApiError.of(ErrorCode.INTERNAL, "internal error; correlation id " + id);
  }
}
