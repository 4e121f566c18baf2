package io.scribeledger.http;

import io.scribeledger.error.ErrorCode;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * Route registration helpers: one path, handlers by method, 405 with {@code Allow} for the rest.
 */
public final class Routes {

  /** The context key under which handlers name their route for request metrics. */
  static final String ROUTE_LABEL = "scribe.route";

  private Routes() {}

  public static void fixed(
      Router router, String path, Map<HttpMethod, Handler<RoutingContext>> handlers) {
    String allow =
        handlers.keySet().stream().map(HttpMethod::name).sorted().collect(Collectors.joining(", "));
    router
        .route(path)
        .handler(
            ctx -> {
              ctx.put(ROUTE_LABEL, path);
              Handler<RoutingContext> h = handlers.get(ctx.request().method());
              if (h == null) {
                methodNotAllowed(ctx, allow);
              } else {
                h.handle(ctx);
              }
            });
  }

  /**
   * A GET-only route {@code prefix{key}}; the handler gets the still percent-encoded key segment.
   */
  public static void keyGet(
      Router router, String prefix, BiConsumer<RoutingContext, String> handler) {
    router
        .route(prefix + "*")
        .handler(
            ctx -> {
              ctx.put(ROUTE_LABEL, prefix + "{key}");
              if (!ctx.request().method().equals(HttpMethod.GET)) {
                methodNotAllowed(ctx, "GET");
              } else {
                handler.accept(ctx, ctx.request().path().substring(prefix.length()));
              }
            });
  }

  public static void methodNotAllowed(RoutingContext ctx, String allow) {
    ctx.response().putHeader("Allow", allow);
    ErrorResponses.send(
        ctx,
        ErrorCode.METHOD_NOT_ALLOWED,
        ctx.request().method().name() + " is not allowed here; allowed: " + allow);
  }

  public static void notFound(RoutingContext ctx) {
    ErrorResponses.send(
        ctx,
        ErrorCode.NOT_FOUND,
        "no route " + ctx.request().method().name() + " " + ctx.request().path());
  }
}
