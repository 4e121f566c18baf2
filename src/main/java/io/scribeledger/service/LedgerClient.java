package io.scribeledger.service;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.consensus.NodeStatus;
import io.scribeledger.error.ApiError;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.IntegrityScrub;
import io.scribeledger.ledger.WriteOutcome;
import io.scribeledger.verify.TreeHead;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.function.BooleanSupplier;

/** The HTTP side's handle on the ledger verticle: typed requests over the local event bus. */
public final class LedgerClient {

  private final Vertx vertx;
  private final String address;

  /**
   * Beyond the ledger verticle's own deadlines, so that its answer, not the event bus's, arrives.
   */
  private static final long MARGIN_MS = 2000;

  private final DeliveryOptions options;
  private final DeliveryOptions joinOptions;

  public LedgerClient(Vertx vertx, String nodeId, NodeConfig.Raft raft) {
    this.vertx = vertx;
    this.address = LedgerVerticle.address(nodeId);
    this.options =
        new DeliveryOptions()
            .setCodecName(LocalCodec.NAME)
            .setSendTimeout(raft.requestTimeoutMs() + MARGIN_MS);
    this.joinOptions =
        new DeliveryOptions(options).setSendTimeout(LedgerVerticle.joinWindowMs(raft) + MARGIN_MS);
  }

  /**
   * Proposes a write. {@code clientGone} says whether its HTTP client has gone (the connection
   * closed): such a write is dropped if it has not been proposed yet, never after.
   */
  public Future<WriteOutcome> write(Command command, BooleanSupplier clientGone) {
    return request(new LedgerRequest.Write(command, clientGone), WriteOutcome.class);
  }

  public Future<ValueRead> get(LedgerRequest.Get get) {
    return request(get, ValueRead.class);
  }

  public Future<HistoryPage> history(LedgerRequest.History history) {
    return request(history, HistoryPage.class);
  }

  public Future<NodeStatus> status() {
    return request(new LedgerRequest.Status(), NodeStatus.class);
  }

  public Future<Readiness> ready() {
    return request(new LedgerRequest.Ready(), Readiness.class);
  }

  public Future<String> live() {
    return request(new LedgerRequest.Live(), String.class);
  }

  public Future<TreeHead> head() {
    return request(new LedgerRequest.Head(), TreeHead.class);
  }

  public Future<Proof> prove(LedgerRequest.Prove prove) {
    return request(prove, Proof.class);
  }

  public Future<ConsistencyProof> consistency(long first, long second) {
    return request(new LedgerRequest.Consistency(first, second), ConsistencyProof.class);
  }

  public Future<EntriesPage> entries(long from, int limit) {
    return request(new LedgerRequest.Entries(from, limit), EntriesPage.class);
  }

  public Future<SegmentList> segments() {
    return request(new LedgerRequest.Segments(), SegmentList.class);
  }

  public Future<NodeStatus> join(LedgerRequest.Join join) {
    return request(join, NodeStatus.class, joinOptions);
  }

  public Future<NodeStatus> leave(String nodeId) {
    return request(new LedgerRequest.Leave(nodeId), NodeStatus.class);
  }

  public Future<IntegrityScrub.Report> scrub() {
    return request(new LedgerRequest.Scrub(), IntegrityScrub.Report.class);
  }

  public Future<TierView> tiering() {
    return request(new LedgerRequest.Tiering(), TierView.class);
  }

  public Future<WriteOutcome> archive(io.scribeledger.ledger.SegmentArchived record) {
    return request(new LedgerRequest.Archive(record), WriteOutcome.class);
  }

  public Future<TreeHead> signedHead(long size) {
    return request(new LedgerRequest.SignedHead(size), TreeHead.class);
  }

  public Future<Boolean> evict(long segmentId) {
    return request(new LedgerRequest.Evict(segmentId), Boolean.class);
  }

  private <T> Future<T> request(LedgerRequest request, Class<T> type) {
    return request(request, type, options);
  }

  private <T> Future<T> request(LedgerRequest request, Class<T> type, DeliveryOptions delivery) {
    return vertx
        .eventBus()
        .request(address, request, delivery)
        .compose(
            reply -> {
              Object body = reply.body();
              if (body instanceof ApiError error) {
                return Future.failedFuture(error.exception());
              }
              return Future.succeededFuture(type.cast(body));
            });
  }
}
