package io.scribeledger.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The meters one verticle registers, each tagged with its node and removed together when the
 * verticle stops (a node redeployed in the same JVM finds none of them taken).
 */
public final class NodeMeters {

  private final MeterRegistry registry;
  private final Tags node;
  private final List<Meter> meters = new ArrayList<>();

  public NodeMeters(MeterRegistry registry, String nodeId) {
    this.registry = registry;
    this.node = Tags.of("node", nodeId);
  }

  /** A gauge read from {@code value}, with any {@code more} tags beside the node's. */
  public Gauge gauge(String name, String description, Supplier<Number> value, Tag... more) {
    return add(
        Gauge.builder(name, value)
            .description(description)
            .tags(node.and(more))
            .register(registry));
  }

  public Counter counter(String name, String description, Tag... more) {
    return add(
        Counter.builder(name).description(description).tags(node.and(more)).register(registry));
  }

  /** A counter whose count {@code f} reads from {@code source}. */
  public <T> FunctionCounter functionCounter(
      String name, String description, T source, ToDoubleFunction<T> f) {
    return add(
        FunctionCounter.builder(name, source, f)
            .description(description)
            .tags(node)
            .register(registry));
  }

  public Timer timer(String name, String description) {
    return add(Timer.builder(name).description(description).tags(node).register(registry));
  }

  /** Removes every meter registered here. */
  public void removeAll() {
    meters.forEach(registry::remove);
    meters.clear();
  }

  private <M extends Meter> M add(M meter) {
    meters.add(meter);
    return meter;
  }
}
