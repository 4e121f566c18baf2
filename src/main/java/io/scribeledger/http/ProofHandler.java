package io.scribeledger.http;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.service.LedgerClient;
import io.scribeledger.service.LedgerRequest;
import io.scribeledger.service.LedgerRequest.Selector;
import io.scribeledger.service.Proof;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;
import java.util.Set;

/**
 * The verification routes: proofs of inclusion and consistency, the signed head, entries, segments,
 * scrub.
 */
public final class ProofHandler {

  static final int MAX_ENTRIES = 1000;

  private final NodeConfig.Limits limits;
  private final LedgerClient ledger;

  public ProofHandler(NodeConfig.Limits limits, LedgerClient ledger) {
    this.limits = limits;
    this.ledger = ledger;
  }

  /** {@code GET /verify/{key}?version=N}. */
  public void verify(RoutingContext ctx, String rawKey) {
    try {
      String key = PathKeys.key(rawKey, limits.maxKeyBytes());
      QueryParams q = QueryParams.parse(ctx.request().query(), Set.of("version"));
      Selector selector =
          q.number("version", 1, Long.MAX_VALUE)
              .<Selector>map(Selector.Version::new)
              .orElse(new Selector.Latest());
      ledger
          .prove(new LedgerRequest.Prove(key, selector))
          .onSuccess(p -> Json.send(ctx, 200, proofJson(key, p)))
          .onFailure(e -> ErrorResponses.fail(ctx, e));
    } catch (RuntimeException e) {
      ErrorResponses.fail(ctx, e);
    }
  }

  private static JsonObject proofJson(String key, Proof p) {
    JsonObject entry = Json.entry(p.entry());
    entry.remove("key");
    JsonObject segment = null;
    if (p.segment() != null) {
      segment =
          new JsonObject()
              .put("id", p.segment().id())
              .put("firstIndex", p.segment().firstIndex())
              .put("lastIndex", p.segment().lastIndex())
              .put("merkleRoot", Hashes.hex(p.segment().merkleRoot()))
              .put("auditPath", Json.hexList(p.segmentPath()));
    }
    return new JsonObject()
        .put("key", key)
        .put("verified", true)
        .put("entry", entry)
        .put(
            "inclusion",
            new JsonObject()
                .put("leafIndex", p.entry().index() - 1)
                .put("treeSize", p.head().treeSize())
                .put("rootHash", Hashes.hex(p.head().rootHash()))
                .put("auditPath", Json.hexList(p.auditPath())))
        .put("segment", segment)
        .put("treeHead", Json.treeHead(p.head()));
  }

  public void head(RoutingContext ctx) {
    QueryParams.parse(ctx.request().query(), Set.of());
    ledger
        .head()
        .onSuccess(h -> Json.send(ctx, 200, Json.treeHead(h)))
        .onFailure(e -> ErrorResponses.fail(ctx, e));
  }

  /** {@code GET /ledger/consistency?first=M&second=N}, 1 ≤ M ≤ N ≤ tree size. */
  public void consistency(RoutingContext ctx) {
    QueryParams q = QueryParams.parse(ctx.request().query(), Set.of("first", "second"));
    long first = q.number("first", 1, Long.MAX_VALUE).orElseThrow(() -> missing("first"));
    long second = q.number("second", 1, Long.MAX_VALUE).orElseThrow(() -> missing("second"));
    if (first > second) {
      throw ErrorCode.INVALID_REQUEST.error(
          "first (" + first + ") must not be above second (" + second + ")");
    }
    ledger
        .consistency(first, second)
        .onSuccess(
            c ->
                Json.send(
                    ctx,
                    200,
                    new JsonObject()
                        .put("first", c.first())
                        .put("second", c.second())
                        .put("firstRoot", Hashes.hex(c.firstRoot()))
                        .put("secondRoot", Hashes.hex(c.secondRoot()))
                        .put("proof", Json.hexList(c.proof()))))
        .onFailure(e -> ErrorResponses.fail(ctx, e));
  }

  /**
   * {@code GET /ledger/entries?from=I&limit=N}: entries from index I, at most N (1..1000, default
   * 100).
   */
  public void entries(RoutingContext ctx) {
    QueryParams q = QueryParams.parse(ctx.request().query(), Set.of("from", "limit"));
    long from = q.number("from", 1, Long.MAX_VALUE).orElse(1L);
    int limit = q.number("limit", 1, MAX_ENTRIES).orElse(100L).intValue();
    ledger
        .entries(from, limit)
        .onSuccess(
            page -> {
              JsonArray entries = new JsonArray();
              page.entries().forEach(r -> entries.add(Json.entry(r)));
              ctx.response().putHeader("X-Applied-Index", Long.toString(page.treeSize()));
              Json.send(
                  ctx,
                  200,
                  new JsonObject().put("entries", entries).put("treeSize", page.treeSize()));
            })
        .onFailure(e -> ErrorResponses.fail(ctx, e));
  }

  public void segments(RoutingContext ctx) {
    QueryParams.parse(ctx.request().query(), Set.of());
    ledger
        .segments()
        .onSuccess(
            list -> {
              JsonArray out = new JsonArray();
              list.segments()
                  .forEach(
                      s ->
                          out.add(
                              Json.segment(
                                  s,
                                  Optional.ofNullable(list.archived().get(s.id())),
                                  list.onThisNode().contains(s.id()))));
              Json.send(ctx, 200, new JsonObject().put("segments", out));
            })
        .onFailure(e -> ErrorResponses.fail(ctx, e));
  }

  /** {@code POST /admin/scrub}: recompute sealed segments from their files now. */
  public void scrub(RoutingContext ctx) {
    AccessControl.audited(ctx, "scrub", null, ledger.scrub())
        .onSuccess(
            r ->
                Json.send(
                    ctx,
                    200,
                    new JsonObject()
                        .put("segmentsChecked", r.segmentsChecked())
                        .put("archivedNotChecked", r.archivedNotChecked())
                        .put("clean", r.clean())
                        .put("problems", new JsonArray(r.problems()))
                        .put("finishedAt", r.finishedAt())))
        .onFailure(e -> ErrorResponses.fail(ctx, e));
  }

  private static RuntimeException missing(String name) {
    return ErrorCode.INVALID_REQUEST.error("query parameter '" + name + "' is required");
  }
}
