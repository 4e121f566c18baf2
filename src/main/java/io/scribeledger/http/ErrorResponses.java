package io.scribeledger.http;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.Failures;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Writes API.md's JSON errors; anything unexpected becomes a logged {@code internal} with a
 * correlation id.
 */
public final class ErrorResponses {

  private ErrorResponses() {}

  public static void send(RoutingContext ctx, ApiError error) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    if (error.code().retryable() && !ctx.response().headers().contains("Retry-After")) {
      ctx.response().putHeader("Retry-After", "1");
    }
    Json.send(ctx, error.code().status(), body(error));
  }

  /**
   * The JSON body of an error: {@code {"error","message"}}, plus the tombstone's index for {@code
   * deleted}.
   */
  static JsonObject body(ApiError error) {
    JsonObject body =
        new JsonObject().put("error", error.code().code()).put("message", error.message());
    if (error.code() == ErrorCode.DELETED) {
      body.put("index", error.index());
    }
    return body;
  }

  public static void send(RoutingContext ctx, ErrorCode code, String message) {
    send(ctx, ApiError.of(code, message));
  }

  /** Maps a failed future's cause to its API error. */
  public static void fail(RoutingContext ctx, Throwable cause) {
    send(ctx, Failures.toApiError(cause));
  }
}
