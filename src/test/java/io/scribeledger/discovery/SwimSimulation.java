package io.scribeledger.discovery;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;

/**
 * The failure detector of N members on a simulated network with a virtual clock: ticks at each
 * member's own phase, datagrams delivered after 1-5 ms unless lost (a loss rate) or their receiver
 * is crashed or paused. Packets carry the gossip each sender would piggyback, as the verticle does.
 * Deterministic for a seed, so minutes of protocol run in milliseconds.
 */
final class SwimSimulation {

  static final Swim.Timing TIMING = new Swim.Timing(1000, 300, 3, 4000, 8000);

  private record Event(long at, long order, Runnable action) {}

  private final PriorityQueue<Event> queue =
      new PriorityQueue<>(
          (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.order, b.order));
  private final Random random;
  private long order;
  long now = 1_700_000_000_000L;
  double loss;
  final Map<String, Swim> nodes = new HashMap<>();
  final Set<String> crashed = new HashSet<>();
  final Set<String> paused = new HashSet<>();

  /** When not empty: these members and the others cannot reach each other (a partition). */
  final Set<String> sideA = new HashSet<>();

  /** Every status change each member saw: observer → (member, status, time). */
  final List<String[]> changes = new ArrayList<>();

  SwimSimulation(long seed) {
    random = new Random(seed);
  }

  static String address(String id) {
    return id + ":7946";
  }

  /** Starts member {@code id} now with the given seeds; its ticks follow the wall-clock rounds. */
  Swim start(String id, List<String> seeds) {
    long incarnation = now;
    // Each member's wall clock is off by up to 50 ms either way (NTP-synchronised hosts).
    long clockOffset = random.nextInt(101) - 50L;
    Swim[] self = new Swim[1];
    Swim swim =
        new Swim(
            id,
            address(id),
            "",
            "",
            incarnation,
            TIMING,
            seeds,
            (address, packet) -> send(self[0], address, packet),
            (m, before) -> changes.add(new String[] {id, m.id(), m.status().label(), "" + now}),
            new Random(random.nextLong()),
            () -> now + clockOffset,
            () -> Long.MAX_VALUE);
    self[0] = swim;
    nodes.put(id, swim);
    crashed.remove(id);
    // Ticks at the start of each round on the member's own clock, as the verticle's, plus a
    // timer's lateness.
    long late = random.nextInt(20);
    periodic(id, swim, now + Swim.untilNextRound(now + clockOffset, TIMING.intervalMs()) + late);
    return swim;
  }

  /**
   * A fixed-rate timer like the verticle's: it keeps its schedule while the member is paused, and
   * the rounds that fell in a pause all fire at once when it runs again (as a stopped process's
   * timers do).
   */
  private void periodic(String id, Swim swim, long at) {
    schedule(
        at,
        () -> {
          if (nodes.get(id) == swim && !crashed.contains(id)) {
            whenRunning(id, swim, () -> tick(swim));
            periodic(id, swim, at + TIMING.intervalMs());
          }
        });
  }

  /** Runs {@code action} now, or as soon as member {@code id} runs again; never once it is gone. */
  private void whenRunning(String id, Swim swim, Runnable action) {
    if (nodes.get(id) != swim || crashed.contains(id)) {
      return;
    }
    if (paused.contains(id)) {
      schedule(now + 50, () -> whenRunning(id, swim, action));
      return;
    }
    action.run();
  }

  private void tick(Swim swim) {
    String id = swim.members().get(0).id();
    swim.tick(now);
    long probe = swim.currentProbe();
    long timeout = swim.probeTimeoutMs();
    schedule(now + timeout, () -> whenRunning(id, swim, () -> swim.probeTimedOut(probe, now)));
    schedule(
        now + 2 * timeout, () -> whenRunning(id, swim, () -> swim.indirectTimedOut(probe, now)));
  }

  private void send(Swim from, String address, Packet packet) {
    List<Packet.Update> gossip = from.gossip();
    int n = Math.min(6, gossip.size());
    from.sent(gossip, n);
    Packet withGossip =
        new Packet(
            packet.type(),
            packet.sender(),
            packet.senderAddress(),
            packet.senderRaft(),
            packet.senderHttp(),
            packet.incarnation(),
            packet.seq(),
            packet.timestamp(),
            packet.probe(),
            packet.targetId(),
            packet.targetAddress(),
            List.copyOf(gossip.subList(0, n)));
    String to = address.substring(0, address.indexOf(':'));
    if (random.nextDouble() < loss
        || (!sideA.isEmpty() && sideA.contains(packet.sender()) != sideA.contains(to))) {
      return;
    }
    long delay = 1L + random.nextInt(5);
    schedule(
        now + delay,
        () -> {
          Swim target = nodes.get(to);
          if (target == null || crashed.contains(to)) {
            return;
          }
          if (paused.contains(to)) {
            // The kernel buffers datagrams for a stopped process: delivered when it runs again.
            schedule(now + 50, () -> deliverLater(to, target, withGossip));
            return;
          }
          target.receive(withGossip, now);
        });
  }

  private void deliverLater(String to, Swim target, Packet p) {
    if (crashed.contains(to) || nodes.get(to) != target) {
      return;
    }
    if (paused.contains(to)) {
      schedule(now + 50, () -> deliverLater(to, target, p));
      return;
    }
    target.receive(p, now);
  }

  void schedule(long at, Runnable action) {
    queue.add(new Event(at, order++, action));
  }

  /** Runs the simulation for {@code ms} of virtual time. */
  void run(long ms) {
    long end = now + ms;
    while (!queue.isEmpty() && queue.peek().at <= end) {
      Event e = queue.poll();
      now = e.at;
      e.action.run();
    }
    now = end;
  }

  /** Member {@code id}'s status as {@code observer} sees it. */
  Packet.Status statusOf(String observer, String id) {
    return nodes.get(observer).members().stream()
        .filter(m -> m.id().equals(id))
        .map(Swim.MemberView::status)
        .findFirst()
        .orElse(null);
  }

  long incarnationOf(String observer, String id) {
    return nodes.get(observer).members().stream()
        .filter(m -> m.id().equals(id))
        .mapToLong(Swim.MemberView::incarnation)
        .findFirst()
        .orElse(-1);
  }

  /**
   * The first time (virtual ms) at or after {@code since} that {@code observer} saw {@code id}
   * become {@code status}, or -1.
   */
  long firstChange(String observer, String id, String status, long since) {
    for (String[] c : changes) {
      if (c[0].equals(observer)
          && c[1].equals(id)
          && c[2].equals(status)
          && Long.parseLong(c[3]) >= since) {
        return Long.parseLong(c[3]);
      }
    }
    return -1;
  }
}
