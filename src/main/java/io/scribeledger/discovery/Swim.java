package io.scribeledger.discovery;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The failure detector, without I/O or clocks of its own (the verticle feeds it ticks, datagrams
 * and the time): SWIM's probe rounds — one member pinged per round in a shuffled round-robin that
 * all members share (so that each member is pinged once a round: {@link #nextTarget}), {@code k}
 * others asked to ping it when no ack comes in time, {@code suspect} at the end of a round without
 * any ack, {@code down} once a suspicion outlives a timeout that shrinks as other members confirm
 * it — with Lifeguard's refinements: a local health score that stretches this node's probe timeout
 * when it is itself slow, and no conviction in a round whose tick came far too late (this node was
 * paused, not the others). A suspected member refutes with a higher incarnation; membership updates
 * ride on every packet. Not thread-safe: the verticle calls it from its own event loop.
 */
final class Swim {

  /** Where packets go; the verticle encodes them with the gossip of {@link #gossip}. */
  interface Out {
    void send(String address, Packet packet);
  }

  /** Told of every status change of a member, and of each probe answered. */
  interface Listener {
    void changed(MemberView member, Packet.Status before);

    default void probeAcked(long rttMs) {}
  }

  /**
   * A member as this node sees it; its Raft and HTTP addresses as it announced them (empty until it
   * sent us a packet), and since when (monotonic ms) it has been in its status.
   */
  record MemberView(
      String id,
      String address,
      Packet.Status status,
      long incarnation,
      long lastSeenMs,
      int suspectedBy,
      String raftAddress,
      String httpAddress,
      long statusSince) {}

  /** Timings and fan-out, from the configuration. */
  record Timing(
      long intervalMs,
      long probeTimeoutMs,
      int indirectProbes,
      long suspicionMinMs,
      long suspicionMaxMs) {}

  private static final int MAX_HEALTH = 8;

  private final String selfId;
  private final String selfAddress;
  private final String selfRaft;
  private final String selfHttp;
  private final Timing timing;
  private final List<String> seeds;
  private final Out out;
  private final Listener listener;
  private final Random random;

  /**
   * Wall-clock time, for packet timestamps and lastSeen; protocol timing uses the monotonic now.
   */
  private final java.util.function.LongSupplier wallClock;

  /** The highest incarnation this node may take now: what is reserved for it. */
  private final java.util.function.LongSupplier maxIncarnation;

  private long incarnation;
  private long seq;
  private long lastTick;
  private int health;
  // Read by metrics on other threads.
  private final java.util.concurrent.atomic.AtomicLong refutations =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong suspicions =
      new java.util.concurrent.atomic.AtomicLong();

  private final Map<String, Member> members = new HashMap<>();
  private Probe probe;
  private final Map<Long, Relay> relays = new HashMap<>();
  private final Map<String, Gossip> gossip = new LinkedHashMap<>();

  private static final class Member {
    final String id;
    String address;
    String raftAddress = "";
    String httpAddress = "";
    Packet.Status status;
    long incarnation;
    long lastSeen;
    long suspectSince;
    final Set<String> suspecters = new HashSet<>();

    /** When the status last changed (monotonic ms): left and down members are forgotten later. */
    long changedAt;

    Member(String id, String address, Packet.Status status, long incarnation, long lastSeen) {
      this.id = id;
      this.address = address;
      this.status = status;
      this.incarnation = incarnation;
      this.lastSeen = lastSeen;
    }
  }

  /** The probe of this round: its id, target, when it went out, whether an ack came. */
  private static final class Probe {
    final long id;
    final String target;
    final long sentAt;
    boolean acked;
    boolean concluded;

    Probe(long id, String target, long sentAt) {
      this.id = id;
      this.target = target;
      this.sentAt = sentAt;
    }
  }

  /** A ping made for another member: whom to forward the ack to, and under which probe id. */
  private record Relay(String requesterAddress, long requesterProbe, String target, long until) {}

  private static final class Gossip {
    final Packet.Update update;
    int transmits;

    Gossip(Packet.Update update) {
      this.update = update;
    }
  }

  Swim(
      String selfId,
      String selfAddress,
      String selfRaft,
      String selfHttp,
      long startIncarnation,
      Timing timing,
      List<String> seeds,
      Out out,
      Listener listener,
      Random random,
      java.util.function.LongSupplier wallClock,
      java.util.function.LongSupplier maxIncarnation) {
    this.wallClock = wallClock;
    this.maxIncarnation = maxIncarnation;
    this.selfId = selfId;
    this.selfAddress = selfAddress;
    this.selfRaft = selfRaft;
    this.selfHttp = selfHttp;
    this.incarnation = startIncarnation;
    // Numbers sent go on from one incarnation to the next within a run; a restart starts a new
    // window at peers (ReplayWindow), so where they start does not matter.
    this.seq = 0;
    this.timing = timing;
    this.seeds = List.copyOf(seeds);
    this.out = out;
    this.listener = listener;
    this.random = random;
    spread(new Packet.Update(selfId, selfAddress, Packet.Status.ALIVE, incarnation, selfId));
  }

  long incarnation() {
    return incarnation;
  }

  int health() {
    return health;
  }

  long refutations() {
    return refutations.get();
  }

  long suspicions() {
    return suspicions.get();
  }

  /** Every member known, this node included. */
  List<MemberView> members() {
    List<MemberView> views = new ArrayList<>();
    views.add(
        new MemberView(
            selfId,
            selfAddress,
            Packet.Status.ALIVE,
            incarnation,
            wallClock.getAsLong(),
            0,
            selfRaft,
            selfHttp,
            0));
    members.values().stream()
        .sorted(Comparator.comparing(m -> m.id))
        .forEach(m -> views.add(view(m)));
    return views;
  }

  private static MemberView view(Member m) {
    return new MemberView(
        m.id,
        m.address,
        m.status,
        m.incarnation,
        m.lastSeen,
        m.status == Packet.Status.SUSPECT ? m.suspecters.size() : 0,
        m.raftAddress,
        m.httpAddress,
        m.changedAt);
  }

  /**
   * One protocol round at {@code now}: concludes the last probe, times out suspicions, sends the
   * next probe and announces this node to seeds it does not know yet. A tick more than two
   * intervals after the last convicts nobody: this node was the slow one.
   */
  boolean tick(long now) {
    if (lastTick > 0 && now - lastTick < timing.intervalMs() / 2) {
      return false; // a timer catching up after a pause: one round per interval at most
    }
    boolean late = lastTick > 0 && now - lastTick > 2 * timing.intervalMs();
    if (late) {
      health = Math.min(MAX_HEALTH, health + 1);
      // The time this node was away does not count against the members it suspected: they had no
      // chance to hear of the suspicion and refute it meanwhile.
      long away = now - lastTick - timing.intervalMs();
      members.values().stream()
          .filter(m -> m.status == Packet.Status.SUSPECT)
          .forEach(m -> m.suspectSince += away);
    }
    lastTick = now;
    if (probe != null) {
      if (probe.acked) {
        health = Math.max(0, health - 1);
      } else if (!late && !probe.concluded && now - probe.sentAt >= 2 * probeTimeoutMs()) {
        health = Math.min(MAX_HEALTH, health + 1);
        suspect(probe.target, now);
      }
      probe = null;
    }
    relays.values().removeIf(r -> r.until < now);
    if (!late) {
      for (Member m : List.copyOf(members.values())) {
        if (m.status == Packet.Status.SUSPECT && now - m.suspectSince >= suspicionTimeout(m)) {
          change(m, Packet.Status.DOWN, m.incarnation, now);
          spread(new Packet.Update(m.id, m.address, Packet.Status.DOWN, m.incarnation, selfId));
          tellOthers(m.id);
        }
      }
    }
    forget(now);
    Member target = nextTarget();
    if (target != null) {
      probe = new Probe(probeId(), target.id, now);
      send(target.address, Packet.Type.PING, probe.id, "", "");
    }
    // Gossip to the dead, one a round: a member cut off by a partition hears that it was declared
    // down, refutes, and both sides see each other alive again once the partition heals.
    List<Member> down = new ArrayList<>();
    members.values().stream().filter(m -> m.status == Packet.Status.DOWN).forEach(down::add);
    if (!down.isEmpty()) {
      send(down.get(random.nextInt(down.size())).address, Packet.Type.PING, 0, "", "");
    }
    for (String seed : seeds) {
      boolean reached =
          members.values().stream()
              .anyMatch(
                  m ->
                      seed.equals(m.address)
                          && (m.status == Packet.Status.ALIVE
                              || m.status == Packet.Status.SUSPECT));
      if (!seed.equals(selfAddress) && !reached) {
        send(seed, Packet.Type.PING, 0, "", ""); // a restarted seed is found again this way
      }
    }
    return true;
  }

  /** Members forgotten this long after they left, or were declared down. */
  private static final long FORGET_LEFT_MS = 60_000;

  private static final long FORGET_DOWN_MS = 3_600_000;

  /** Members remembered at most: what an authenticated but faulty peer can make this node hold. */
  static final int MAX_MEMBERS = 1024;

  private void forget(long now) {
    members
        .values()
        .removeIf(
            m ->
                (m.status == Packet.Status.LEFT && now - m.changedAt > FORGET_LEFT_MS)
                    || (m.status == Packet.Status.DOWN && now - m.changedAt > FORGET_DOWN_MS));
  }

  /** A random, non-zero probe id: no other member's probe or ack can be mistaken for ours. */
  private long probeId() {
    long id;
    do {
      id = random.nextLong();
    } while (id == 0);
    return id;
  }

  /**
   * How long after a tick {@link #probeTimedOut} runs, and again after that {@link
   * #indirectTimedOut}: stretched by poor local health (Lifeguard), never past the round.
   */
  long probeTimeoutMs() {
    return Math.min(timing.probeTimeoutMs() * (health + 1), timing.intervalMs() * 2 / 5);
  }

  /** The probe sent by the last tick, or 0 when none went out. */
  long currentProbe() {
    return probe == null ? 0 : probe.id;
  }

  /**
   * No ack in time for probe {@code probeId}: ask up to {@code k} others to probe the target. A
   * timeout for an earlier round's probe (a timer that fired late) does nothing.
   */
  void probeTimedOut(long probeId, long now) {
    if (probe == null || probe.id != probeId || probe.acked) {
      return;
    }
    Member target = members.get(probe.target);
    if (target == null) {
      return;
    }
    List<Member> helpers = new ArrayList<>();
    for (Member m : members.values()) {
      if (m.status == Packet.Status.ALIVE && !m.id.equals(probe.target)) {
        helpers.add(m);
      }
    }
    Collections.shuffle(helpers, random);
    for (Member h : helpers.subList(0, Math.min(timing.indirectProbes(), helpers.size()))) {
      send(h.address, Packet.Type.PING_REQ, probe.id, target.id, target.address);
    }
  }

  /**
   * The indirect probes had their time too (another {@link #probeTimeoutMs} after {@link
   * #probeTimedOut}) and no ack came: the target is suspected now rather than at the next tick. Not
   * when this call itself comes late (this node was paused, not the target).
   */
  void indirectTimedOut(long probeId, long now) {
    if (probe == null || probe.id != probeId || probe.acked || probe.concluded) {
      return;
    }
    if (now - probe.sentAt > 3 * probeTimeoutMs() + timing.intervalMs() / 2) {
      return; // we ran late: the next tick decides, and a late tick convicts nobody
    }
    probe.concluded = true;
    health = Math.min(MAX_HEALTH, health + 1);
    suspect(probe.target, now);
    tellOthers(probe.target);
  }

  /** Members told at once of a suspicion or a conviction: the news need not wait for a round. */
  private static final int FAN_OUT = 3;

  /**
   * Sends the fresh gossip (least-sent first, so this news) to a few members other than {@code
   * about} right away, riding on pings nobody waits for.
   */
  private void tellOthers(String about) {
    List<Member> others = new ArrayList<>();
    for (Member m : members.values()) {
      if (m.status == Packet.Status.ALIVE && !m.id.equals(about)) {
        others.add(m);
      }
    }
    Collections.shuffle(others, random);
    for (Member m : others.subList(0, Math.min(FAN_OUT, others.size()))) {
      send(m.address, Packet.Type.PING, 0, "", "");
    }
  }

  /** An authenticated packet, received at {@code now}. */
  void receive(Packet p, long now) {
    if (p.sender().equals(selfId)) {
      return; // our own, looped back: nothing to learn
    }
    Member sender = heardFrom(p, now);
    for (Packet.Update u : p.updates()) {
      apply(u, now);
    }
    switch (p.type()) {
      case PING -> send(p.senderAddress(), Packet.Type.ACK, p.probe(), "", "");
      case ACK -> {
        // Only the target's own ack, or a helper's that names the target, answers our probe.
        if (probe != null
            && p.probe() == probe.id
            && !probe.acked
            && (p.sender().equals(probe.target) || p.targetId().equals(probe.target))) {
          probe.acked = true;
          listener.probeAcked(now - probe.sentAt);
        }
        Relay relay = relays.remove(p.probe());
        if (relay != null && relay.target.equals(p.sender())) {
          send(relay.requesterAddress, Packet.Type.ACK, relay.requesterProbe, relay.target, "");
        }
      }
      case PING_REQ -> {
        if (!p.targetAddress().isEmpty() && !p.targetId().equals(selfId)) {
          long id = probeId();
          relays.put(
              id, new Relay(p.senderAddress(), p.probe(), p.targetId(), now + timing.intervalMs()));
          send(p.targetAddress(), Packet.Type.PING, id, "", "");
        }
      }
      case LEAVE -> {
        if (sender != null && sender.status != Packet.Status.LEFT) {
          change(sender, Packet.Status.LEFT, p.incarnation(), now);
          spread(
              new Packet.Update(
                  sender.id, sender.address, Packet.Status.LEFT, p.incarnation(), selfId));
        }
      }
    }
  }

  /** Says goodbye to every member this node believes alive (a graceful stop). */
  void leave(long now) {
    for (Member m : members.values()) {
      if (m.status == Packet.Status.ALIVE || m.status == Packet.Status.SUSPECT) {
        send(m.address, Packet.Type.LEAVE, 0, "", "");
      }
    }
  }

  /** A packet straight from its sender proves it is up, at its incarnation. */
  private Member heardFrom(Packet p, long now) {
    Member m = members.get(p.sender());
    if (m == null) {
      if (members.size() >= MAX_MEMBERS) {
        return null;
      }
      m =
          new Member(
              p.sender(),
              p.senderAddress(),
              Packet.Status.ALIVE,
              p.incarnation(),
              wallClock.getAsLong());
      m.changedAt = now;
      m.raftAddress = p.senderRaft();
      m.httpAddress = p.senderHttp();
      members.put(m.id, m);
      listener.changed(view(m), null);
      spread(new Packet.Update(m.id, m.address, Packet.Status.ALIVE, m.incarnation, m.id));
      return m;
    }
    m.lastSeen = wallClock.getAsLong();
    m.raftAddress = p.senderRaft();
    m.httpAddress = p.senderHttp();
    if (p.incarnation() > m.incarnation && p.type() != Packet.Type.LEAVE) {
      m.address = p.senderAddress();
      if (m.status != Packet.Status.ALIVE) {
        change(m, Packet.Status.ALIVE, p.incarnation(), now);
      } else {
        m.incarnation = p.incarnation();
      }
      spread(new Packet.Update(m.id, m.address, Packet.Status.ALIVE, m.incarnation, m.id));
    } else if (m.status == Packet.Status.DOWN || m.status == Packet.Status.SUSPECT) {
      // It still runs at the incarnation we hold against it: tell it, so that it refutes.
      spread(new Packet.Update(m.id, m.address, m.status, m.incarnation, selfId));
    }
    return m;
  }

  private void apply(Packet.Update u, long now) {
    if (u.memberId().isEmpty()) {
      return;
    }
    if (u.memberId().equals(selfId)) {
      // Refuted only to an incarnation already reserved (IncarnationFile): one used before it is
      // recorded could be used again after a crash, and a member with a valid key that claims an
      // absurd one would otherwise push this node's incarnation out of reach for good. A claim
      // beyond the reservation waits for the next one (the suspicion is gossiped again).
      if ((u.status() == Packet.Status.SUSPECT || u.status() == Packet.Status.DOWN)
          && u.incarnation() >= incarnation
          && u.incarnation() < maxIncarnation.getAsLong()) {
        incarnation = u.incarnation() + 1;
        refutations.incrementAndGet();
        health = Math.min(MAX_HEALTH, health + 1);
        spread(new Packet.Update(selfId, selfAddress, Packet.Status.ALIVE, incarnation, selfId));
      }
      return;
    }
    Member m = members.get(u.memberId());
    if (m == null) {
      if (u.address().isEmpty() || members.size() >= MAX_MEMBERS) {
        return;
      }
      m = new Member(u.memberId(), u.address(), u.status(), u.incarnation(), 0);
      m.changedAt = now;
      if (u.status() == Packet.Status.SUSPECT) {
        m.suspectSince = now;
        m.suspecters.add(u.by());
      }
      members.put(m.id, m);
      listener.changed(view(m), null);
      spread(u);
      return;
    }
    boolean newer = u.incarnation() > m.incarnation;
    boolean same = u.incarnation() == m.incarnation;
    switch (u.status()) {
      case ALIVE -> {
        if (newer) {
          if (!u.address().isEmpty()) {
            m.address = u.address();
          }
          change(m, Packet.Status.ALIVE, u.incarnation(), now);
          spread(u);
        }
      }
      case SUSPECT -> {
        if ((m.status == Packet.Status.ALIVE && (newer || same))
            || (m.status == Packet.Status.SUSPECT && newer)) {
          change(m, Packet.Status.SUSPECT, u.incarnation(), now);
          m.suspecters.clear();
          m.suspecters.add(u.by());
          spread(u);
        } else if (m.status == Packet.Status.SUSPECT && same && m.suspecters.add(u.by())) {
          spread(u); // a confirmation: shortens the suspicion everywhere
        }
      }
      case DOWN -> {
        if (((m.status == Packet.Status.ALIVE || m.status == Packet.Status.SUSPECT)
                && (newer || same))
            || (m.status == Packet.Status.DOWN && newer)) {
          change(m, Packet.Status.DOWN, u.incarnation(), now);
          spread(u);
        }
      }
      case LEFT -> {
        if ((newer || same) && m.status != Packet.Status.LEFT) {
          change(m, Packet.Status.LEFT, u.incarnation(), now);
          spread(u);
        }
      }
    }
  }

  private void suspect(String id, long now) {
    Member m = members.get(id);
    if (m == null) {
      return;
    }
    if (m.status == Packet.Status.ALIVE) {
      change(m, Packet.Status.SUSPECT, m.incarnation, now);
      m.suspecters.clear();
      m.suspecters.add(selfId);
      suspicions.incrementAndGet();
      spread(new Packet.Update(m.id, m.address, Packet.Status.SUSPECT, m.incarnation, selfId));
    } else if (m.status == Packet.Status.SUSPECT && m.suspecters.add(selfId)) {
      spread(new Packet.Update(m.id, m.address, Packet.Status.SUSPECT, m.incarnation, selfId));
    }
  }

  /**
   * Lifeguard's suspicion timeout: from the maximum down to the minimum as independent
   * confirmations come in (log-scaled, full at {@code k} confirmations).
   */
  private long suspicionTimeout(Member m) {
    int confirmations = Math.max(0, m.suspecters.size() - 1);
    long alive = members.values().stream().filter(x -> x.status == Packet.Status.ALIVE).count();
    int k = (int) Math.max(1, Math.min(3, alive - 1));
    double fraction = Math.log(confirmations + 1.0) / Math.log(k + 1.0);
    long span = timing.suspicionMaxMs() - timing.suspicionMinMs();
    return Math.max(timing.suspicionMinMs(), timing.suspicionMaxMs() - (long) (span * fraction));
  }

  private void change(Member m, Packet.Status to, long inc, long now) {
    Packet.Status before = m.status;
    m.status = to;
    m.changedAt = now;
    m.incarnation = inc;
    if (to == Packet.Status.SUSPECT && before != Packet.Status.SUSPECT) {
      m.suspectSince = now;
    }
    if (to != Packet.Status.SUSPECT) {
      m.suspecters.clear();
    }
    if (before != to) {
      listener.changed(view(m), before);
    }
  }

  /**
   * This round's target, on a schedule all members share: the members this node can probe, itself
   * included, in an order every member computes alike (sorted by id, then shuffled by the number of
   * the current cycle of n - 1 rounds), each member pinging the one {@code step} places after
   * itself, with {@code step} going through 1 … n - 1 over a cycle. While members agree on who is
   * there, every member is pinged exactly once a round and by every other member once a cycle: a
   * crashed member is probed in the next round, not whenever independent shuffles reach it (which
   * left a first suspicion at p99 4.3 s with 1 s rounds). Rounds are numbered by the wall clock,
   * which the verticle's ticks follow; members that disagree on the membership or the time only
   * probe less evenly.
   */
  private Member nextTarget() {
    List<String> ring = new ArrayList<>();
    ring.add(selfId);
    members.values().stream()
        .filter(m -> m.status == Packet.Status.ALIVE || m.status == Packet.Status.SUSPECT)
        .forEach(m -> ring.add(m.id));
    int n = ring.size();
    if (n < 2) {
      return null;
    }
    Collections.sort(ring);
    long round = roundAt(wallClock.getAsLong(), timing.intervalMs());
    shuffle(ring, Math.floorDiv(round, n - 1));
    int step = 1 + (int) Math.floorMod(round, (long) n - 1);
    return members.get(ring.get((ring.indexOf(selfId) + step) % n));
  }

  /**
   * Fisher–Yates with SplitMix64 seeded by {@code seed}: written out here, since every member must
   * compute the same order, whatever its JDK ({@code Collections.shuffle}'s algorithm is not part
   * of its contract).
   */
  static void shuffle(List<String> list, long seed) {
    long state = seed;
    for (int i = list.size() - 1; i > 0; i--) {
      state += 0x9E3779B97F4A7C15L;
      long z = state;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      z ^= z >>> 31;
      Collections.swap(list, i, (int) Math.floorMod(z, (long) i + 1));
    }
  }

  /**
   * The number of the round a tick at wall-clock {@code wallMs} belongs to: the nearest multiple of
   * the interval, so a tick that fires a little early or late still counts for its own round.
   */
  static long roundAt(long wallMs, long intervalMs) {
    return Math.floorDiv(wallMs + intervalMs / 2, intervalMs);
  }

  /** Milliseconds from wall-clock {@code wallMs} to the start of the next round. */
  static long untilNextRound(long wallMs, long intervalMs) {
    return intervalMs - Math.floorMod(wallMs, intervalMs);
  }

  private void spread(Packet.Update u) {
    gossip.remove(u.memberId());
    gossip.put(u.memberId(), new Gossip(u));
  }

  /** Updates to piggyback, least sent first. */
  List<Packet.Update> gossip() {
    List<Gossip> all = new ArrayList<>(gossip.values());
    all.sort(Comparator.comparingInt(g -> g.transmits));
    List<Packet.Update> out = new ArrayList<>(all.size());
    all.forEach(g -> out.add(g.update));
    return out;
  }

  /**
   * The first {@code count} of the last {@link #gossip} went out; each update is sent about 3 ×
   * log2(n) times, then dropped.
   */
  void sent(List<Packet.Update> updates, int count) {
    int limit = 3 * (32 - Integer.numberOfLeadingZeros(members.size() + 1));
    for (Packet.Update u : updates.subList(0, count)) {
      Gossip g = gossip.get(u.memberId());
      if (g != null && g.update.equals(u) && ++g.transmits >= limit) {
        gossip.remove(u.memberId());
      }
    }
  }

  private void send(
      String address, Packet.Type type, long probeId, String targetId, String targetAddr) {
    out.send(
        address,
        new Packet(
            type,
            selfId,
            selfAddress,
            selfRaft,
            selfHttp,
            incarnation,
            ++seq,
            wallClock.getAsLong(),
            probeId,
            targetId,
            targetAddr,
            List.of()));
  }
}
