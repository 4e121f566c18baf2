package io.scribeledger.http;

import io.scribeledger.error.ErrorCode;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
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

  /** A GET route anyone may call, before authentication (the health probes). */
  public static void open(Router router, String path, Handler<RoutingContext> handler) {
    fixed(router, path, List.of(), Map.of(HttpMethod.GET, handler));
  }

  /**
   * A route at one path: {@code before} (access checks, then the body reader) runs first, then the
   * handler of the request's method, or 405 with {@code Allow}.
   */
  public static void fixed(
      Router router,
      String path,
      List<Handler<RoutingContext>> before,
      Map<HttpMethod, Handler<RoutingContext>> handlers) {
    String allow =
        handlers.keySet().stream().map(HttpMethod::name).sorted().collect(Collectors.joining(", "));
    Route route = router.route(path).handler(label(path));
    before.forEach(route::handler);
    route.handler(
        ctx -> {
          Handler<RoutingContext> h = handlers.get(ctx.request().method());
          if (h == null) {
            methodNotAllowed(ctx, allow);
          } else {
            h.handle(ctx);
          }
        });
  }

  /** Names the route for request metrics (and lets the request go on). */
  static Handler<RoutingContext> label(String route) {
    return ctx -> {
      ctx.put(ROUTE_LABEL, route);
      ctx.next();
    };
  }

  /**
   * A GET-only route {@code prefix{key}} that reads that key; the handler gets the still
   * percent-encoded key segment.
   */
  public static void keyGet(
      Router router,
      String prefix,
      Handler<RoutingContext> access,
      BiConsumer<RoutingContext, String> handler) {
    router
        .route(prefix + "*")
        .handler(label(prefix + "{key}"))
        .handler(access)
        .handler(
            ctx -> {
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
