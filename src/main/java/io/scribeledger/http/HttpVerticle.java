package io.scribeledger.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.scribeledger.auth.Role;
import io.scribeledger.auth.TokenStore;
import io.scribeledger.config.NodeConfig;
import io.scribeledger.discovery.DiscoveryClient;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.service.LedgerClient;
import io.scribeledger.tier.TierClient;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Serves the HTTP API of docs/API.md on the event loop; all ledger work goes over the event bus.
 */
public final class HttpVerticle extends AbstractVerticle {

  /** Admin request bodies are small JSON objects. */
  private static final long MAX_ADMIN_BODY = 64 * 1024;

  private static final Pattern MALFORMED_ESCAPE = Pattern.compile("%(?![0-9A-Fa-f]{2})");
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  private final NodeConfig config;
  private final MeterRegistry registry;

  private final Admission admission;
  private final AccessControl access;

  /**
   * An HTTP verticle; {@code tokens} empty means the node runs open (every caller may do
   * everything). {@code admission} and {@code rates} are shared by every instance.
   */
  public HttpVerticle(
      NodeConfig config,
      MeterRegistry registry,
      Admission admission,
      Optional<TokenStore> tokens,
      RateLimits rates) {
    this.config = config;
    this.registry = registry;
    this.admission = admission;
    this.access = new AccessControl(tokens, rates);
  }

  @Override
  public void start(Promise<Void> started) {
    LedgerClient ledger = new LedgerClient(vertx, config.node().id(), config.raft());
    Router router = router(ledger);
    HttpServerOptions options =
        new HttpServerOptions()
            .setCompressionSupported(false)
            // HTTP/1.1 only: with cleartext HTTP/2 detection on, a connection is not set up
            // (nor counted against http.maxConnections) until its first bytes arrive.
            .setHttp2ClearTextEnabled(false)
            // A connection that sends nothing for this long is closed: slow or idle clients
            // cannot hold connections (and their buffers) open for ever.
            .setIdleTimeout((int) config.http().idleTimeoutMs())
            .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    config
        .security()
        .tls()
        .ifPresent(
            tls ->
                options
                    .setSsl(true)
                    // TLS 1.2 and 1.3 only (Vert.x's default protocol set).
                    .setKeyCertOptions(
                        new PemKeyCertOptions()
                            .setCertPath(tls.certFile().toString())
                            .setKeyPath(tls.keyFile().toString())));
    vertx
        .createHttpServer(options)
        .requestHandler(router)
        .connectionHandler(connection -> HttpFramingGuard.install(connection, admission))
        .listen(config.http().port(), config.http().host())
        .onSuccess(server -> started.complete())
        .onFailure(
            e ->
                started.fail(
                    new IllegalStateException(
                        "cannot listen on "
                            + config.http().host()
                            + ":"
                            + config.http().port()
                            + ": "
                            + e.getMessage())));
  }

  private Router router(LedgerClient ledger) {
    RequestMetrics requests = new RequestMetrics(registry, config.node().id());
    KvHandler kv = new KvHandler(config.limits(), ledger);
    NodeHandler node =
        new NodeHandler(
            ledger,
            registry,
            requests,
            admission,
            config.tiering().enabled()
                ? Optional.of(new TierClient(vertx, config.node().id()))
                : Optional.empty(),
            config.discovery().enabled()
                ? Optional.of(new DiscoveryClient(vertx, config.node().id()))
                : Optional.empty());
    ProofHandler proofs = new ProofHandler(config.limits(), ledger);
    Router router = Router.router(vertx);

    router
        .route()
        .handler(
            ctx -> {
              requests.track(ctx);
              if (requestId(ctx)) {
                ctx.next();
              }
            });
    // Open: the probes a kubelet or load balancer calls without a token.
    Routes.open(router, "/health", ctx -> node.health(ctx, access.mayReadDetails(ctx)));
    Routes.open(router, "/health/live", node::live);
    Routes.open(router, "/health/ready", node::ready);
    // Every route below needs a valid token (when the node has tokens), and then its role.
    router.route().handler(access.authenticate());

    Handler<RoutingContext> reader = access.require(Role.READER);
    Handler<RoutingContext> admin = access.require(Role.ADMIN);
    Handler<RoutingContext> adminBody = new BoundedBody(MAX_ADMIN_BODY, admission);
    Routes.fixed(router, "/metrics", List.of(reader), Map.of(HttpMethod.GET, node::metrics));
    Routes.fixed(
        router, "/metrics/prometheus", List.of(reader), Map.of(HttpMethod.GET, node::prometheus));
    Routes.fixed(
        router, "/cluster/status", List.of(reader), Map.of(HttpMethod.GET, node::clusterStatus));
    Routes.fixed(
        router, "/cluster/members", List.of(reader), Map.of(HttpMethod.GET, node::clusterMembers));
    Routes.fixed(
        router, "/cluster/leader", List.of(reader), Map.of(HttpMethod.GET, node::clusterLeader));
    Routes.fixed(
        router,
        "/cluster/join",
        List.of(admin, adminBody),
        Map.of(HttpMethod.POST, guarded(node::join)));
    Routes.fixed(
        router,
        "/cluster/leave",
        List.of(admin, adminBody),
        Map.of(HttpMethod.POST, guarded(node::leave)));

    Routes.fixed(
        router, "/ledger/head", List.of(reader), Map.of(HttpMethod.GET, guarded(proofs::head)));
    Routes.fixed(
        router,
        "/ledger/consistency",
        List.of(reader),
        Map.of(HttpMethod.GET, guarded(proofs::consistency)));
    Routes.fixed(
        router,
        "/ledger/entries",
        List.of(access.requireWholeLedger()),
        Map.of(HttpMethod.GET, guarded(proofs::entries)));
    Routes.fixed(
        router, "/segments", List.of(reader), Map.of(HttpMethod.GET, guarded(proofs::segments)));
    Routes.fixed(router, "/admin/scrub", List.of(admin), Map.of(HttpMethod.POST, proofs::scrub));
    Routes.keyGet(router, "/verify/", access.requireKey("/verify/"), proofs::verify);
    Handler<RoutingContext> valueBody = new BoundedBody(config.limits().maxValueBytes(), admission);
    Handler<RoutingContext> bodyOfPut =
        ctx -> {
          if (ctx.request().method().equals(HttpMethod.PUT)) {
            valueBody.handle(ctx);
          } else {
            ctx.next();
          }
        };
    router
        .route("/kv/*")
        .handler(Routes.label("/kv/{key}"))
        .handler(access.requireKey("/kv/"))
        .handler(bodyOfPut)
        .handler(ctx -> kv.handle(ctx, ctx.request().path().substring("/kv/".length())));
    Routes.keyGet(router, "/history/", access.requireKey("/history/"), kv::history);
    router
        .route("/*")
        .handler(Routes.label("/{key}"))
        .handler(access.requireKey("/"))
        .handler(bodyOfPut)
        .handler(ctx -> legacyKey(ctx, kv));

    router.errorHandler(400, HttpVerticle::malformed);
    router.errorHandler(404, Routes::notFound);
    router.errorHandler(
        405, ctx -> ErrorResponses.send(ctx, ErrorCode.METHOD_NOT_ALLOWED, "method not allowed"));
    router.errorHandler(500, ctx -> ErrorResponses.fail(ctx, ctx.failure()));
    return router;
  }

  /** Runs a handler that may throw an API error while parsing its request, answering it as JSON. */
  private static Handler<RoutingContext> guarded(Handler<RoutingContext> handler) {
    return ctx -> {
      try {
        handler.handle(ctx);
      } catch (RuntimeException e) {
        ErrorResponses.fail(ctx, e);
      }
    };
  }

  /** The seed-compatible {@code /{key}} routes; reserved first segments are node routes only. */
  private static void legacyKey(RoutingContext ctx, KvHandler kv) {
    String raw = ctx.request().path().substring(1);
    int slash = raw.indexOf('/');
    String first = slash < 0 ? raw : raw.substring(0, slash);
    if (raw.isEmpty() || PathKeys.RESERVED.contains(first)) {
      Routes.notFound(ctx);
    } else {
      kv.handle(ctx, raw);
    }
  }

  /** Vert.x refuses a path it cannot decode before routing; in a key route that is a bad key. */
  private static void malformed(RoutingContext ctx) {
    String path = ctx.request().path();
    if (path != null && MALFORMED_ESCAPE.matcher(path).find()) {
      ErrorResponses.send(ctx, ErrorCode.INVALID_KEY, "malformed percent-encoding in the path");
    } else {
      ErrorResponses.send(ctx, ErrorCode.INVALID_REQUEST, "malformed request");
    }
  }

  /** Echoes the client's X-Request-Id (or a new one); a malformed one is refused. */
  private static boolean requestId(RoutingContext ctx) {
    String id = ctx.request().getHeader("X-Request-Id");
    if (id != null && !REQUEST_ID.matcher(id).matches()) {
      ctx.response().putHeader("X-Request-Id", UUID.randomUUID().toString());
      ErrorResponses.send(
          ctx,
          ErrorCode.INVALID_REQUEST,
          "X-Request-Id must be 1-128 characters of letters, digits, '.', '_', ':' or '-'");
      return false;
    }
    ctx.response().putHeader("X-Request-Id", id == null ? UUID.randomUUID().toString() : id);
    return true;
  }
}
