package io.scribeledger.service;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.consensus.RaftNode;
import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.Failures;
import io.scribeledger.ledger.EntryRecord;
import io.scribeledger.ledger.LedgerState;
import io.scribeledger.ledger.Op;
import io.scribeledger.service.LedgerRequest.ReadMode;
import io.scribeledger.service.LedgerRequest.Selector;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Owns the Raft member, its state machine and the ledger storage, and serves the HTTP verticles'
 * requests from the event bus. Proposals and barriers are asynchronous; index and file reads run
 * on the worker pool, never on the event loop.
 */
public final class LedgerVerticle extends AbstractVerticle {

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setCodecName(LocalCodec.NAME);

  private final NodeConfig config;
  private final MeterRegistry registry;
  private RaftNode node;
  private MessageConsumer<Object> consumer;
  private final List<Meter> gauges = new ArrayList<>();

  public LedgerVerticle(NodeConfig config, MeterRegistry registry) {
    this.config = config;
    this.registry = registry;
  }

  /** The event-bus address of a node's ledger verticle. */
  public static String address(String nodeId) {
    return "scribe.ledger." + nodeId;
  }

  @Override
  public void start(Promise<Void> started) {
    vertx.executeBlocking(() -> RaftNode.start(config))
        .onSuccess(n -> {
          node = n;
          registerGauges(n);
          consumer = vertx.eventBus().consumer(address(config.node().id()), this::handle);
          started.complete();
        })
        .onFailure(started::fail);
  }

  @Override
  public void stop(Promise<Void> stopped) {
    gauges.forEach(registry::remove);
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    unregistered.compose(v -> vertx.<Void>executeBlocking(() -> {
      if (node != null) {
        node.close();
      }
      return null;
    })).onComplete(ar -> stopped.complete());
  }

  private void registerGauges(RaftNode n) {
    gauge("scribe.ledger.size", "entries in the ledger", () -> n.state().size());
    gauge("scribe.ledger.segments", "segment files", () -> n.state().segmentCount());
    gauge("scribe.raft.term", "current Raft term", () -> n.status().term());
    gauge("scribe.raft.commit.index", "Raft commit index", () -> n.status().commitIndex());
    gauge("scribe.raft.applied.index", "Raft applied index", () -> n.status().raftAppliedIndex());
    gauge("scribe.raft.leader.known", "1 when this node knows a leader", () -> n.status().hasLeader() ? 1 : 0);
  }

  private void gauge(String name, String description, Supplier<Number> value) {
    gauges.add(Gauge.builder(name, value).description(description).tag("node", config.node().id()).register(registry));
  }

  private void handle(Message<Object> message) {
    Future<?> result;
    try {
      result = dispatch((LedgerRequest) message.body());
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result(), LOCAL);
      } else {
        message.reply(Failures.toApiError(ar.cause()), LOCAL);
      }
    });
  }

  private Future<?> dispatch(LedgerRequest request) {
    if (request instanceof LedgerRequest.Write w) {
      return Future.fromCompletionStage(node.submit(w.command()), context);
    }
    if (request instanceof LedgerRequest.Get g) {
      return ready(g.mode()).compose(v -> vertx.executeBlocking(() -> read(g), false));
    }
    if (request instanceof LedgerRequest.History h) {
      return ready(h.mode()).compose(v -> vertx.executeBlocking(() -> history(h), false));
    }
    return Future.succeededFuture(node.status());
  }

  /** Completes when this node's copy is fresh enough for the read mode. */
  private Future<Void> ready(ReadMode mode) {
    if (mode instanceof ReadMode.Stale) {
      return Future.succeededFuture();
    }
    if (mode instanceof ReadMode.Linearizable) {
      return Future.fromCompletionStage(node.readBarrier(), context);
    }
    long index = ((ReadMode.MinIndex) mode).index();
    long timeoutMs = config.http().readTimeoutMs();
    Promise<Void> promise = Promise.promise();
    long timer = vertx.setTimer(timeoutMs, t -> promise.tryFail(ApiError.of(ErrorCode.TIMEOUT,
        "this node has not applied index " + index + " within " + timeoutMs + " ms").exception()));
    Future.fromCompletionStage(node.watch().await(index), context).onSuccess(v -> {
      vertx.cancelTimer(timer);
      promise.tryComplete();
    });
    return promise.future();
  }

  private ValueRead read(LedgerRequest.Get g) {
    LedgerState state = node.state();
    long applied = state.size();
    String key = g.key();
    if (state.latestVersion(key) == 0) {
      throw ApiError.of(ErrorCode.NOT_FOUND, "key has never been written").exception();
    }
    Optional<EntryRecord> found;
    String missing;
    if (g.selector() instanceof Selector.Version v) {
      found = state.version(key, v.version());
      missing = "key has no version " + v.version();
    } else if (g.selector() instanceof Selector.At a) {
      if (a.index() > applied) {
        throw ApiError.of(ErrorCode.INVALID_REQUEST, "at=" + a.index() + " is beyond the ledger (size " + applied + ")")
            .exception();
      }
      found = state.at(key, a.index());
      missing = "key had no version at index " + a.index();
    } else {
      found = state.latest(key);
      missing = "key has never been written";
    }
    EntryRecord record = found.orElseThrow(() -> ApiError.of(ErrorCode.NOT_FOUND, missing).exception());
    if (record.op() == Op.DELETE) {
      throw new ApiError(ErrorCode.DELETED, "key was deleted at index " + record.index(), record.index()).exception();
    }
    return new ValueRead(record, g.withValue() ? state.value(record) : null, applied);
  }

  private HistoryPage history(LedgerRequest.History h) {
    LedgerState state = node.state();
    long applied = state.size();
    if (state.latestVersion(h.key()) == 0) {
      throw ApiError.of(ErrorCode.NOT_FOUND, "key has never been written").exception();
    }
    List<EntryRecord> versions = state.history(h.key(), h.afterVersion(), h.limit() + 1);
    boolean more = versions.size() > h.limit();
    return new HistoryPage(h.key(), more ? versions.subList(0, h.limit()) : versions, more, applied);
  }
}
