package io.scribeledger.http;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.Condition;
import io.scribeledger.ledger.EntryRecord;
import io.scribeledger.ledger.EntryRules;
import io.scribeledger.ledger.WriteOutcome;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.service.HistoryPage;
import io.scribeledger.service.LedgerClient;
import io.scribeledger.service.LedgerRequest;
import io.scribeledger.service.LedgerRequest.ReadMode;
import io.scribeledger.service.LedgerRequest.Selector;
import io.scribeledger.service.ValueBody;
import io.scribeledger.service.ValueRead;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import java.util.regex.Pattern;

/** The key-value routes: PUT, GET, HEAD and DELETE of a key, and its history. */
public final class KvHandler {

  private static final Set<String> READ_PARAMS = Set.of("version", "at", "consistency", "minIndex");
  private static final Set<String> HISTORY_PARAMS =
      Set.of("after", "limit", "consistency", "minIndex");
  private static final Pattern ETAG = Pattern.compile("\"?([0-9a-fA-F]{64})\"?");
  private static final String DEFAULT_CONTENT_TYPE = "application/octet-stream";
  static final int MAX_HISTORY_LIMIT = 1000;

  private final NodeConfig.Limits limits;
  private final LedgerClient ledger;

  public KvHandler(NodeConfig.Limits limits, LedgerClient ledger) {
    this.limits = limits;
    this.ledger = ledger;
  }

  /** Serves a key route; {@code rawKey} is the still percent-encoded key segment. */
  public void handle(RoutingContext ctx, String rawKey) {
    try {
      String key = PathKeys.key(rawKey, limits.maxKeyBytes());
      HttpMethod method = ctx.request().method();
      if (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)) {
        get(ctx, key, method.equals(HttpMethod.GET));
      } else if (method.equals(HttpMethod.PUT)) {
        put(ctx, key);
      } else if (method.equals(HttpMethod.DELETE)) {
        delete(ctx, key);
      } else {
        Routes.methodNotAllowed(ctx, "GET, HEAD, PUT, DELETE");
      }
    } catch (RuntimeException e) {
      ErrorResponses.fail(ctx, e);
    }
  }

  /** {@code GET /history/{key}}. */
  public void history(RoutingContext ctx, String rawKey) {
    try {
      String key = PathKeys.key(rawKey, limits.maxKeyBytes());
      QueryParams q = QueryParams.parse(ctx.request().query(), HISTORY_PARAMS);
      long after = q.number("after", 0, Long.MAX_VALUE).orElse(0L);
      int limit = q.number("limit", 1, MAX_HISTORY_LIMIT).orElse(100L).intValue();
      ledger
          .history(new LedgerRequest.History(key, after, limit, readMode(q)))
          .onSuccess(page -> sendHistory(ctx, page))
          .onFailure(e -> ErrorResponses.fail(ctx, e));
    } catch (RuntimeException e) {
      ErrorResponses.fail(ctx, e);
    }
  }

  private void sendHistory(RoutingContext ctx, HistoryPage page) {
    JsonArray versions = new JsonArray();
    page.versions().forEach(r -> versions.add(Json.version(r)));
    JsonObject body = new JsonObject().put("key", page.key()).put("versions", versions);
    if (page.more()) {
      body.put("nextAfter", page.versions().get(page.versions().size() - 1).version());
    }
    ctx.response().putHeader("X-Applied-Index", Long.toString(page.appliedIndex()));
    Json.send(ctx, 200, body);
  }

  private void get(RoutingContext ctx, String key, boolean withValue) {
    QueryParams q = QueryParams.parse(ctx.request().query(), READ_PARAMS);
    if (q.has("version") && q.has("at")) {
      throw invalid("give either 'version' or 'at', not both");
    }
    Selector selector =
        q.number("version", 1, Long.MAX_VALUE)
            .<Selector>map(Selector.Version::new)
            .or(() -> q.number("at", 1, Long.MAX_VALUE).map(Selector.At::new))
            .orElse(new Selector.Latest());
    ledger
        .get(new LedgerRequest.Get(key, selector, readMode(q), withValue))
        .onSuccess(read -> sendValue(ctx, read))
        .onFailure(e -> ErrorResponses.fail(ctx, e));
  }

  private static ReadMode readMode(QueryParams q) {
    String consistency = q.string("consistency").orElse(null);
    if (consistency != null
        && !consistency.equals("linearizable")
        && !consistency.equals("stale")) {
      throw invalid("consistency must be 'linearizable' or 'stale'");
    }
    if (q.has("minIndex")) {
      if ("linearizable".equals(consistency)) {
        throw invalid(
            "minIndex reads this node's copy; it cannot be combined with consistency=linearizable");
      }
      return new ReadMode.MinIndex(q.number("minIndex", 0, Long.MAX_VALUE).orElseThrow());
    }
    return "stale".equals(consistency) ? new ReadMode.Stale() : new ReadMode.Linearizable();
  }

  private static void sendValue(RoutingContext ctx, ValueRead read) {
    EntryRecord r = read.record();
    HttpServerResponse response = ctx.response();
    entryHeaders(response, r.index(), r.version(), r.leafHash());
    response.putHeader("X-Applied-Index", Long.toString(read.appliedIndex()));
    response.putHeader("Content-Type", r.contentType());
    response.setStatusCode(200);
    ValueBody body = read.body();
    if (body instanceof ValueBody.InMemory m) {
      response.end(Buffer.buffer(m.bytes()));
    } else if (body instanceof ValueBody.OnDisk d) {
      sendFromDisk(ctx, d);
    } else {
      response.putHeader("Content-Length", Long.toString(r.size())).end();
    }
  }

  /**
   * Sends a checked value from its file (zero-copy over plain HTTP, in chunks through TLS) and
   * closes the channel after. A failure before any byte went out is a JSON 503; after, the
   * connection is closed, so the client sees a body shorter than its Content-Length and no later
   * response on that connection can be mistaken for the rest of it.
   */
  private static void sendFromDisk(RoutingContext ctx, ValueBody.OnDisk d) {
    HttpServerResponse response = ctx.response();
    Future<Void> sent;
    try {
      sent = response.sendFile(d.channel(), d.offset(), d.length());
    } catch (RuntimeException closedMeanwhile) {
      sent = Future.failedFuture(closedMeanwhile);
    }
    sent.onComplete(
        ar -> {
          try {
            d.channel().close();
          } catch (java.io.IOException ignored) {
            // read-only: nothing to lose
          }
          if (ar.succeeded()) {
            return;
          }
          if (!response.headWritten()) {
            response.headers().clear();
            ErrorResponses.send(
                ctx, ErrorCode.UNAVAILABLE, "the value could not be sent from disk; retry");
          } else {
            ctx.request().connection().close();
          }
        });
  }

  private static void entryHeaders(
      HttpServerResponse response, long index, long version, byte[] leafHash) {
    response
        .putHeader("X-Ledger-Index", Long.toString(index))
        .putHeader("X-Key-Version", Long.toString(version))
        .putHeader("ETag", "\"" + Hashes.hex(leafHash) + "\"");
  }

  private void put(RoutingContext ctx, String key) {
    QueryParams.parse(ctx.request().query(), Set.of());
    Condition condition = condition(ctx);
    String contentType = contentType(ctx);
    byte[] value = BoundedBody.of(ctx).getBytes();
    write(ctx, new Command.Put(key, contentType, value, condition), 201);
  }

  private void delete(RoutingContext ctx, String key) {
    QueryParams.parse(ctx.request().query(), Set.of());
    write(ctx, new Command.Delete(key, condition(ctx)), 200);
  }

  private void write(RoutingContext ctx, Command command, int status) {
    ledger
        .write(command, () -> ctx.response().closed() || ctx.response().ended())
        .onSuccess(
            outcome -> {
              if (outcome instanceof WriteOutcome.Applied a) {
                entryHeaders(
                    ctx.response(),
                    a.receipt().index(),
                    a.receipt().version(),
                    a.receipt().leafHash());
                Json.send(ctx, status, Json.receipt(a.receipt()));
              } else if (outcome instanceof WriteOutcome.Rejected r) {
                ErrorResponses.send(ctx, r.error());
              }
            })
        .onFailure(e -> ErrorResponses.fail(ctx, e));
  }

  private static Condition condition(RoutingContext ctx) {
    String ifNoneMatch = ctx.request().getHeader("If-None-Match");
    String ifMatch = ctx.request().getHeader("If-Match");
    if (ifNoneMatch != null && ifMatch != null) {
      throw invalid("give either If-None-Match or If-Match, not both");
    }
    if (ifNoneMatch != null) {
      if (!ifNoneMatch.trim().equals("*")) {
        throw invalid("If-None-Match supports only '*' (write only if the key has no live value)");
      }
      return new Condition.IfAbsent();
    }
    if (ifMatch != null) {
      var m = ETAG.matcher(ifMatch.trim());
      if (!m.matches()) {
        throw invalid(
            "If-Match must be the quoted leaf hash of the key's latest version (64 hex digits)");
      }
      return new Condition.IfMatch(Hashes.fromHex(m.group(1).toLowerCase(java.util.Locale.ROOT)));
    }
    return Condition.NONE;
  }

  private String contentType(RoutingContext ctx) {
    String ct = ctx.request().getHeader("Content-Type");
    if (ct == null || ct.isBlank()) {
      return DEFAULT_CONTENT_TYPE;
    }
    EntryRules.contentTypeProblem(ct, limits.maxContentTypeBytes())
        .ifPresent(
            problem -> {
              throw invalid(problem);
            });
    return ct;
  }

  private static RuntimeException invalid(String message) {
    return ApiError.of(ErrorCode.INVALID_REQUEST, message).exception();
  }
}
