package io.scribeledger.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The failure detector's behaviour over a simulated network (SwimSimulation: real protocol code,
 * virtual clock, injected loss): convergence, crash detection within the targets, restart with a
 * higher incarnation, no false conviction during a pause or under 5 % and 20 % loss.
 */
class SwimTest {

  static List<String> ids(int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      ids.add("n" + i);
    }
    return ids;
  }

  static SwimSimulation cluster(long seed, int n) {
    SwimSimulation sim = new SwimSimulation(seed);
    List<String> seeds = List.of(SwimSimulation.address("n1"));
    for (String id : ids(n)) {
      sim.start(id, seeds);
    }
    return sim;
  }

  static boolean allAlive(SwimSimulation sim) {
    for (String a : sim.nodes.keySet()) {
      if (sim.crashed.contains(a)) {
        continue;
      }
      for (String b : sim.nodes.keySet()) {
        if (!a.equals(b) && !sim.crashed.contains(b) && sim.statusOf(a, b) != Packet.Status.ALIVE) {
          return false;
        }
      }
    }
    return true;
  }

  @Test
  void fiveMembersSeeEachOtherAliveWithinAFewRounds() {
    SwimSimulation sim = cluster(1, 5);
    sim.run(5_000);
    assertTrue(allAlive(sim), "every member sees every other alive after 5 rounds");
  }

  @Test
  void aCrashIsSuspectedThenDownEverywhereAndARestartComesBackAlive() {
    List<Long> suspectMs = new ArrayList<>();
    List<Long> firstSuspectMs = new ArrayList<>();
    List<Long> downMs = new ArrayList<>();
    for (int round = 0; round < 20; round++) {
      SwimSimulation sim = cluster(100 + round, 5);
      // The crash falls anywhere in a round: just after its probe of the crashed member, too.
      sim.run(10_000 + (round * 379L) % 1000);
      assertTrue(allAlive(sim));
      long crashAt = sim.now;
      sim.crashed.add("n3");
      sim.run(20_000);
      long first = Long.MAX_VALUE;
      for (String observer : List.of("n1", "n2", "n4", "n5")) {
        long suspect = sim.firstChange(observer, "n3", "suspect", crashAt);
        long down = sim.firstChange(observer, "n3", "down", crashAt);
        assertTrue(down > 0, observer + " sees n3 down");
        suspectMs.add((suspect > 0 ? suspect : down) - crashAt);
        first = Math.min(first, (suspect > 0 ? suspect : down) - crashAt);
        downMs.add(down - crashAt);
      }
      firstSuspectMs.add(first);
      long before = sim.incarnationOf("n1", "n3");
      sim.start("n3", List.of(SwimSimulation.address("n1")));
      sim.run(5_000);
      for (String observer : List.of("n1", "n2", "n4", "n5")) {
        assertEquals(Packet.Status.ALIVE, sim.statusOf(observer, "n3"), observer);
        assertTrue(sim.incarnationOf(observer, "n3") > before, "a higher incarnation");
      }
    }
    long downP99 = p99(downMs);
    System.out.printf(
        "SWIM (simulated, 5 members, 20 crashes): first suspicion anywhere p50 %d ms, p99 %d ms;"
            + " at each observer p50 %d ms, p99 %d ms; down at each observer p50 %d ms, p99 %d"
            + " ms%n",
        p50(firstSuspectMs),
        p99(firstSuspectMs),
        p50(suspectMs),
        p99(suspectMs),
        p50(downMs),
        downP99);
    assertTrue(p99(suspectMs) <= 2_000, "suspect within 2 s, p99: " + p99(suspectMs));
    assertTrue(downP99 <= 10_000, "down within 10 s, p99: " + downP99);
  }

  static long p50(List<Long> values) {
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  static long p99(List<Long> values) {
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1);
  }

  @Test
  void aPausedMemberConvictsNobodyWhenItWakesAndNobodyHealthyGoesDown() {
    for (int round = 0; round < 10; round++) {
      SwimSimulation sim = cluster(200 + round, 5);
      sim.run(10_000);
      long pauseAt = sim.now;
      sim.paused.add("n2");
      sim.run(5_000);
      sim.paused.remove("n2");
      sim.run(15_000);
      for (String other : List.of("n1", "n3", "n4", "n5")) {
        assertEquals(-1, sim.firstChange("n2", other, "suspect", pauseAt), "n2 suspects " + other);
        assertEquals(-1, sim.firstChange("n2", other, "down", pauseAt), "n2 convicts " + other);
        for (String observer : List.of("n1", "n3", "n4", "n5")) {
          if (!observer.equals(other)) {
            assertEquals(-1, sim.firstChange(observer, other, "down", pauseAt));
          }
        }
      }
      assertTrue(allAlive(sim), "everyone alive again once n2 runs");
    }
  }

  @Test
  void packetLossOfFiveAndTwentyPercentDeclaresNoHealthyMemberDown() {
    for (double loss : new double[] {0.05, 0.20}) {
      SwimSimulation sim = cluster(300, 5);
      sim.run(10_000);
      long start = sim.now;
      sim.loss = loss;
      sim.run(5 * 60_000); // five minutes
      for (String a : sim.nodes.keySet()) {
        for (String b : sim.nodes.keySet()) {
          if (!a.equals(b)) {
            assertEquals(
                -1, sim.firstChange(a, b, "down", start), a + " sees " + b + " down at " + loss);
          }
        }
      }
    }
  }

  @Test
  void aHealedPartitionAndARestartedSeedComeBackAlive() {
    SwimSimulation sim = cluster(400, 5);
    sim.run(10_000);
    sim.sideA.addAll(List.of("n1", "n2"));
    sim.run(20_000);
    assertEquals(Packet.Status.DOWN, sim.statusOf("n1", "n4"), "the other side is down");
    assertEquals(Packet.Status.DOWN, sim.statusOf("n4", "n2"));
    sim.sideA.clear();
    sim.run(15_000);
    assertTrue(allAlive(sim), "everyone alive once the partition heals");

    // The only seed crashes and restarts knowing nobody: the others find it again.
    sim.crashed.add("n1");
    sim.run(15_000);
    sim.start("n1", List.of(SwimSimulation.address("n1")));
    sim.run(10_000);
    assertTrue(allAlive(sim), "the restarted seed is alive everywhere");
  }

  @Test
  void onlyTheTargetOrAHelperNamingItAnswersAProbe() {
    List<String[]> sent = new ArrayList<>();
    Swim a =
        new Swim(
            "a",
            "a:1",
            "",
            "",
            1,
            SwimSimulation.TIMING,
            List.of(),
            (address, p) -> sent.add(new String[] {address, p.type().name()}),
            (m, before) -> {},
            new java.util.Random(1),
            () -> 0L,
            () -> Long.MAX_VALUE);
    for (String id : List.of("b", "c")) {
      a.receive(
          new Packet(Packet.Type.ACK, id, id + ":1", "", "", 1, 1, 0, 0, "", "", List.of()), 1_000);
    }
    a.tick(2_000);
    long probe = a.currentProbe();
    String target = sent.stream().filter(x -> x[1].equals("PING")).findFirst().get()[0];
    String other = target.equals("b:1") ? "c" : "b";
    // An ack carrying our probe id from someone else, about nobody: not an answer.
    a.receive(
        new Packet(Packet.Type.ACK, other, other + ":1", "", "", 1, 2, 0, probe, "", "", List.of()),
        2_050);
    a.probeTimedOut(probe, 2_300);
    a.indirectTimedOut(probe, 2_600);
    String targetId = target.substring(0, 1);
    assertEquals(
        Packet.Status.SUSPECT,
        a.members().stream().filter(m -> m.id().equals(targetId)).findFirst().get().status());
  }

  @Test
  void aSuspicionClaimingAnIncarnationThisNodeNeverUsedIsNotRefutedTo() {
    long now = 1_800_000_000_000L;
    Swim swim =
        new Swim(
            "n1",
            "n1:7946",
            "",
            "",
            now,
            SwimSimulation.TIMING,
            List.of(),
            (address, packet) -> {},
            (m, before) -> {},
            new java.util.Random(1),
            () -> now,
            () -> now + IncarnationFile.BLOCK); // what the verticle reserved at its start
    java.util.function.LongFunction<Packet> suspectingN1At =
        inc ->
            new Packet(
                Packet.Type.PING,
                "n2",
                "n2:7946",
                "",
                "",
                7,
                1,
                now,
                0,
                "",
                "",
                List.of(new Packet.Update("n1", "n1:7946", Packet.Status.SUSPECT, inc, "n2")));
    // A member with a valid key but a broken (or hostile) state: refuting to its number would put
    // this node's incarnation out of reach for good, and beyond the reserved block a crash could
    // lose it.
    swim.receive(suspectingN1At.apply(Long.MAX_VALUE - 1), now);
    assertEquals(now, swim.incarnation());
    assertEquals(0, swim.refutations());
    swim.receive(suspectingN1At.apply(now), now);
    assertEquals(now + 1, swim.incarnation(), "a genuine suspicion is refuted");
  }

  @Test
  void everyMemberComputesTheSameProbeOrder() {
    List<String> a = new ArrayList<>(List.of("n1", "n2", "n3", "n4", "n5"));
    List<String> b = new ArrayList<>(a);
    Swim.shuffle(a, 12345);
    Swim.shuffle(b, 12345);
    assertEquals(a, b);
    // Pinned: a change to the shuffle would split a cluster of mixed versions into two schedules.
    assertEquals(List.of("n4", "n3", "n1", "n2", "n5"), a);
  }
}
