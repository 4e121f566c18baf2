package io.scribeledger.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.scribeledger.config.ConfigResolver;
import io.scribeledger.consensus.NodeStatus;
import io.scribeledger.discovery.DiscoveryClient;
import io.scribeledger.discovery.DiscoveryStatus;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.ledger.MemberRules;
import io.scribeledger.service.LedgerClient;
import io.scribeledger.service.LedgerRequest;
import io.scribeledger.tier.TierClient;
import io.scribeledger.tier.TierStatus;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Base64;
import java.util.Optional;

/** Node routes: health, metrics and this node's view of the cluster. */
public final class NodeHandler {

  private final LedgerClient ledger;
  private final MeterRegistry registry;
  private final RequestMetrics requests;

  private final Admission admission;

  /** The tiering verticle's door, when tiering is on. */
  private final Optional<TierClient> tier;

  /** The discovery verticle's door, when discovery is on. */
  private final Optional<DiscoveryClient> discovery;

  public NodeHandler(
      LedgerClient ledger,
      MeterRegistry registry,
      RequestMetrics requests,
      Admission admission,
      Optional<TierClient> tier,
      Optional<DiscoveryClient> discovery) {
    this.ledger = ledger;
    this.registry = registry;
    this.requests = requests;
    this.admission = admission;
    this.tier = tier;
    this.discovery = discovery;
  }

  private void withStatus(RoutingContext ctx, java.util.function.Consumer<NodeStatus> then) {
    ledger.status().onSuccess(then::accept).onFailure(e -> ErrorResponses.fail(ctx, e));
  }

  /** Receives this node's status with the tiering and discovery verticles' views. */
  @FunctionalInterface
  private interface ViewConsumer {
    void accept(NodeStatus s, Optional<TierStatus> tier, Optional<DiscoveryStatus> discovery);
  }

  /**
   * This node's status, then the archive's lag and the failure detector's view, asked at once (each
   * empty when its verticle is off or does not answer: the status is served regardless).
   */
  private void withView(RoutingContext ctx, ViewConsumer then) {
    withStatus(
        ctx,
        s -> {
          Future<Optional<TierStatus>> t = ifAnswered(tier.map(TierClient::status));
          Future<Optional<DiscoveryStatus>> d = ifAnswered(discovery.map(DiscoveryClient::status));
          Future.join(t, d).onComplete(ar -> then.accept(s, t.result(), d.result()));
        });
  }

  private static <T> Future<Optional<T>> ifAnswered(Optional<Future<T>> request) {
    return request
        .map(f -> f.map(Optional::of).otherwise(Optional.empty()))
        .orElse(Future.succeededFuture(Optional.empty()));
  }

  /**
   * 200 {@code ok}; 200 {@code degraded} with the problems when the integrity scrub found damaged
   * sealed segments or free space below the floor (the node still serves what is intact and refuses
   * what is not); 503 {@code failed} after a fail-stop, {@code restoring} while a snapshot restore
   * runs, {@code unavailable} when no leader is known. The details (role, leader, applied index,
   * problems) only when {@code details}: a node with tokens shows an anonymous probe the status
   * alone.
   */
  public void health(RoutingContext ctx, boolean details) {
    withView(ctx, (s, t, d) -> health(ctx, details, s, t, d));
  }

  private void health(
      RoutingContext ctx,
      boolean details,
      NodeStatus s,
      Optional<TierStatus> t,
      Optional<DiscoveryStatus> d) {
    {
      Optional<String> tierProblem = t.flatMap(TierStatus::degraded);
      long down = d.map(ds -> raftMembersDown(s, ds)).orElse(0L);
      boolean serving = s.hasLeader() && !s.failed() && s.restoring() == null;
      String status;
      if (s.failed()) {
        status = "failed";
      } else if (s.restoring() != null) {
        status = "restoring";
      } else if (!s.hasLeader()) {
        status = "unavailable";
      } else {
        status =
            s.integrityProblems().isEmpty()
                    && s.diskProblem() == null
                    && tierProblem.isEmpty()
                    && down == 0
                ? "ok"
                : "degraded";
      }
      if (!details) {
        Json.send(ctx, serving ? 200 : 503, new JsonObject().put("status", status));
        return;
      }
      JsonObject body =
          new JsonObject()
              .put("status", status)
              .put("nodeId", s.nodeId())
              .put("role", s.role())
              .put("leaderId", s.leaderId())
              .put("appliedIndex", s.appliedIndex());
      if (!s.integrityProblems().isEmpty()) {
        body.put("problems", new JsonArray(s.integrityProblems()));
      }
      if (s.failed()) {
        body.put("failure", s.failure());
      }
      if (s.restoring() != null) {
        body.put("restoring", s.restoring());
      }
      if (s.diskProblem() != null) {
        body.put("storage", s.diskProblem());
      }
      t.ifPresent(tiering -> body.put("tiering", tiering.toJson()));
      if (d.isPresent()) {
        body.put("membersDown", down);
      }
      Json.send(ctx, serving ? 200 : 503, body);
    }
  }

  /**
   * Liveness: the event loop answers and the ledger verticle replies; it never waits on the ledger
   * state (a snapshot restore holds it for minutes on a large ledger).
   */
  public void live(RoutingContext ctx) {
    ledger
        .live()
        .onSuccess(
            nodeId ->
                Json.send(ctx, 200, new JsonObject().put("status", "live").put("nodeId", nodeId)))
        .onFailure(e -> ErrorResponses.fail(ctx, e));
  }

  /**
   * Readiness: not failed, a leader known, applying close to the commit index and disk space above
   * the floor, so requests are served at normal latency; else 503 with the reason.
   */
  public void ready(RoutingContext ctx) {
    ledger
        .ready()
        .onFailure(e -> ErrorResponses.fail(ctx, e))
        .onSuccess(
            r -> {
              NodeStatus s = r.status();
              Optional<String> notReady = r.notReady();
              JsonObject body =
                  new JsonObject()
                      .put("status", notReady.isEmpty() ? "ready" : "not_ready")
                      .put("nodeId", s.nodeId())
                      .put("leaderId", s.leaderId());
              notReady.ifPresent(reason -> body.put("reason", reason));
              Json.send(ctx, notReady.isEmpty() ? 200 : 503, body);
            });
  }

  public void metrics(RoutingContext ctx) {
    withView(
        ctx,
        (s, t, d) -> {
          JsonObject body =
              new JsonObject()
                  .put("nodeId", s.nodeId())
                  .put("requests", requests.summary())
                  .put(
                      "http",
                      new JsonObject()
                          .put("connections", admission.connections())
                          .put("bytesInFlight", admission.bytesInFlight()))
                  .put(
                      "ledger",
                      new JsonObject()
                          .put("size", s.appliedIndex())
                          .put("treeSize", s.appliedIndex()))
                  .put(
                      "raft",
                      new JsonObject()
                          .put("role", s.role())
                          .put("term", s.term())
                          .put("leaderId", s.leaderId())
                          .put("commitIndex", s.commitIndex())
                          .put("appliedIndex", s.raftAppliedIndex()))
                  .put(
                      "segments",
                      new JsonObject()
                          .put("local", s.segmentCount())
                          .put("archived", t.map(TierStatus::archivedSegments).orElse(null)))
                  .put("integrity", new JsonObject().put("problems", s.integrityProblems().size()))
                  .put(
                      "snapshots",
                      new JsonObject()
                          .put("taken", s.snapshots().taken())
                          .put("installed", s.snapshots().installed())
                          .put("lastIndex", s.snapshots().lastIndex())
                          .put("lastSizeBytes", s.snapshots().lastSizeBytes())
                          .put("lastDurationMs", s.snapshots().lastDurationMs()));
          t.ifPresent(tiering -> body.put("tiering", tiering.toJson()));
          d.ifPresent(
              ds ->
                  body.put(
                      "discovery",
                      new JsonObject()
                          .put("localHealth", ds.localHealth())
                          .put("membersDown", raftMembersDown(s, ds))
                          .put("dropped", new JsonObject(new java.util.TreeMap<>(ds.dropped())))));
          Json.send(ctx, 200, body);
        });
  }

  public void prometheus(RoutingContext ctx) {
    if (!(registry instanceof PrometheusMeterRegistry prometheus)) {
      ErrorResponses.send(
          ctx, ErrorCode.UNAVAILABLE, "Prometheus metrics are not enabled on this node");
      return;
    }
    ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .end(prometheus.scrape());
  }

  public void clusterStatus(RoutingContext ctx) {
    withView(
        ctx,
        (s, t, d) -> {
          JsonObject body =
              new JsonObject()
                  .put("nodeId", s.nodeId())
                  .put("role", s.role())
                  .put("term", s.term())
                  .put("leaderId", s.leaderId())
                  .put("commitIndex", s.commitIndex())
                  .put("leaderCommitIndex", s.leaderCommitIndex())
                  .put("leaderSilentMs", s.leaderSilentMs())
                  .put("appliedIndex", s.appliedIndex())
                  .put("raftAppliedIndex", s.raftAppliedIndex())
                  .put("members", members(s, d));
          t.ifPresent(tiering -> body.put("tiering", tiering.toJson()));
          d.ifPresent(
              ds ->
                  body.put("membersDown", raftMembersDown(s, ds))
                      .put("localHealth", ds.localHealth()));
          Json.send(ctx, 200, body);
        });
  }

  public void clusterMembers(RoutingContext ctx) {
    withView(ctx, (s, t, d) -> Json.send(ctx, 200, new JsonObject().put("members", members(s, d))));
  }

  public void clusterLeader(RoutingContext ctx) {
    withStatus(
        ctx,
        s -> {
          if (!s.hasLeader()) {
            ErrorResponses.send(
                ctx, ErrorCode.NO_LEADER, "no leader is known; an election may be in progress");
            return;
          }
          String http =
              s.members().stream()
                  .filter(m -> m.nodeId().equals(s.leaderId()))
                  .map(NodeStatus.Member::httpAddress)
                  .findFirst()
                  .orElse(null);
          Json.send(
              ctx, 200, new JsonObject().put("leaderId", s.leaderId()).put("httpAddress", http));
        });
  }

  /**
   * {@code POST /cluster/join} {"nodeId","raftAddress","httpAddress"}: answers once the node is a
   * voter.
   */
  public void join(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    String nodeId = body.getValue("nodeId") instanceof String s ? s : null;
    String raft = body.getValue("raftAddress") instanceof String s ? s : null;
    String http = body.getValue("httpAddress") instanceof String s ? s : null;
    if (!ConfigResolver.isNodeId(nodeId)) {
      throw ErrorCode.INVALID_REQUEST.error("nodeId must be 1-64 letters, digits, '.', '_' or '-'");
    }
    if (!ConfigResolver.isHostPort(raft)
        || !ConfigResolver.isHostPort(http)
        || !MemberRules.isHttpAddress(http)) {
      throw ErrorCode.INVALID_REQUEST.error(
          "raftAddress and httpAddress must be host:port (letters, digits, '.', '-', '_', ':')");
    }
    AccessControl.audited(
            ctx,
            "join",
            nodeId + " raft=" + raft + " http=" + http,
            ledger.join(new LedgerRequest.Join(nodeId, raft, http)))
        .onSuccess(
            s ->
                Json.send(
                    ctx,
                    200,
                    new JsonObject()
                        .put("nodeId", nodeId)
                        .put("voter", true)
                        .put("members", members(s, Optional.empty()))))
        .onFailure(e -> ErrorResponses.fail(ctx, e));
  }

  /** {@code POST /cluster/leave} {"nodeId"}: removes it; leadership moves first if it leads. */
  public void leave(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    String nodeId = body.getValue("nodeId") instanceof String s ? s : null;
    if (!ConfigResolver.isNodeId(nodeId)) {
      throw ErrorCode.INVALID_REQUEST.error("nodeId must be 1-64 letters, digits, '.', '_' or '-'");
    }
    AccessControl.audited(ctx, "leave", nodeId, ledger.leave(nodeId))
        .onSuccess(
            s ->
                Json.send(
                    ctx,
                    200,
                    new JsonObject()
                        .put("nodeId", nodeId)
                        .put("removed", true)
                        .put("members", members(s, Optional.empty()))))
        .onFailure(e -> ErrorResponses.fail(ctx, e));
  }

  private static JsonObject jsonBody(RoutingContext ctx) {
    try {
      return new JsonObject(BoundedBody.of(ctx));
    } catch (DecodeException | ClassCastException e) {
      throw ErrorCode.INVALID_REQUEST.error("the body must be a JSON object");
    }
  }

  /**
   * Raft's members, each with its liveness as the failure detector sees it (when discovery is on),
   * then members discovery knows and Raft does not; {@code inRaft} and {@code inDiscovery} flag a
   * member only one of them knows.
   */
  private static JsonArray members(NodeStatus s, Optional<DiscoveryStatus> d) {
    java.util.Map<String, DiscoveryStatus.Member> seen = new java.util.LinkedHashMap<>();
    d.ifPresent(ds -> ds.members().forEach(m -> seen.put(m.nodeId(), m)));
    JsonArray out = new JsonArray();
    for (NodeStatus.Member m : s.members()) {
      boolean self = m.nodeId().equals(s.nodeId());
      boolean leader = m.nodeId().equals(s.leaderId());
      DiscoveryStatus.Member live = seen.remove(m.nodeId());
      JsonObject member =
          new JsonObject()
              .put("nodeId", m.nodeId())
              .put("httpAddress", m.httpAddress())
              .put("raftAddress", m.raftAddress())
              .put("voter", m.voter())
              // A member's own key as it registered it through Raft, so every node lists every
              // key; this node's own even before its registration is applied.
              .put(
                  "publicKey",
                  self && s.publicKey() != null
                      ? Base64.getEncoder().encodeToString(s.publicKey())
                      : m.publicKey())
              .put("role", leader ? "LEADER" : m.voter() ? "FOLLOWER" : "LISTENER")
              // Known for every member on the leader, and for this node itself elsewhere.
              .put("matchIndex", m.matchIndex() < 0 ? null : m.matchIndex())
              // Without discovery only what Raft proves is claimed.
              .put("status", live != null ? live.status() : self || leader ? "alive" : "unknown")
              .put("inRaft", true);
      if (d.isPresent()) {
        member.put("inDiscovery", live != null);
        if (live != null) {
          discoveryFields(member, live);
        }
      }
      out.add(member);
    }
    for (DiscoveryStatus.Member live : seen.values()) {
      JsonObject member =
          new JsonObject()
              .put("nodeId", live.nodeId())
              .put("status", live.status())
              .put("inRaft", false)
              .put("inDiscovery", true);
      discoveryFields(member, live);
      out.add(member);
    }
    return out;
  }

  /**
   * Raft members the failure detector sees down: a member only discovery knows (a node not yet, or
   * no more, in the group) does not make this node degraded.
   */
  private static long raftMembersDown(NodeStatus s, DiscoveryStatus d) {
    java.util.Set<String> down = new java.util.HashSet<>();
    d.members().stream().filter(m -> m.status().equals("down")).forEach(m -> down.add(m.nodeId()));
    return s.members().stream().filter(m -> down.contains(m.nodeId())).count();
  }

  private static void discoveryFields(JsonObject member, DiscoveryStatus.Member live) {
    member
        .put("discoveryAddress", live.address())
        .put("lastSeen", live.lastSeenMs())
        .put("incarnation", live.incarnation())
        .put("suspectedBy", live.suspectedBy());
  }
}
