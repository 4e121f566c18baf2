package io.scribeledger.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.Await;
import io.scribeledger.support.HttpProbe;
import io.scribeledger.support.JarProcess;
import io.scribeledger.support.Ports;
import io.scribeledger.support.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Discovery between three real node processes over real UDP on loopback, default timings (1 s
 * rounds): all alive; kill -9 of one, suspect then down on the others within the targets; its
 * restart, alive again with a higher incarnation (repeated: {@code -Dscribe.discoveryKills=N},
 * default 3); a 5 s SIGSTOP of another, after which it convicts nobody and no healthy member is
 * declared down; datagrams from a stranger dropped and counted.
 */
@ExtendWith(VertxExtension.class)
class DiscoveryProcessIT {

  /** The value at {@code q} (0.5, 0.99, 1.0) of {@code values}, by rank. */
  static long percentile(List<Long> values, double q) {
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get(Math.max(0, (int) Math.ceil(sorted.size() * q) - 1));
  }

  static String status(Api api, String id) {
    return api.member(id).getString("status", "absent");
  }

  @Test
  void membersAreDetectedDownAndBackAndAPausedMemberConvictsNobody(
      Vertx vertx, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    byte[] secret = new byte[32];
    new Random(7).nextBytes(secret);
    Path keys =
        Files.writeString(
            dir.resolve("discovery.keys"), "k1:" + Base64.getEncoder().encodeToString(secret));
    int[] udp = {Ports.free(), Ports.free(), Ports.free()};
    JsonArray seeds = new JsonArray();
    for (int port : udp) {
      seeds.add("127.0.0.1:" + port);
    }
    List<JsonObject> configs = TestCluster.configs(dir, 3, new JsonObject());
    for (int i = 0; i < 3; i++) {
      configs
          .get(i)
          .put(
              "discovery",
              new JsonObject()
                  .put("enabled", true)
                  .put("port", udp[i])
                  .put("seeds", seeds)
                  .put("keyFile", keys.toString()));
    }
    List<JarProcess> procs = new ArrayList<>();
    List<Api> apis = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        procs.add(JarProcess.start(dir.resolve("work-n" + (i + 1)), configs.get(i), Map.of()));
      }
      for (JsonObject c : configs) {
        new HttpProbe("http://127.0.0.1:" + c.getJsonObject("http").getInteger("port"))
            .awaitStatus("/health", 200, 90_000);
        apis.add(new Api(vertx, c.getJsonObject("http").getInteger("port"), 4));
      }
      Await.until(
          "every node sees every member alive",
          15_000,
          () -> {
            for (Api api : apis) {
              for (String id : List.of("n1", "n2", "n3")) {
                if (!"alive".equals(status(api, id))) {
                  return false;
                }
              }
            }
            return true;
          });
      // Kills: n3 and n2 in turn, each seen suspect then down by the two others, then restarted.
      int kills = Integer.getInteger("scribe.discoveryKills", 3);
      List<Long> suspectMs = new ArrayList<>();
      List<Long> downMs = new ArrayList<>();
      for (int kill = 0; kill < kills; kill++) {
        int victim = kill % 2 == 0 ? 2 : 1;
        String victimId = "n" + (victim + 1);
        List<Integer> observers = victim == 2 ? List.of(0, 1) : List.of(0, 2);
        long incarnation = apis.get(observers.get(0)).member(victimId).getLong("incarnation");
        procs.get(victim).kill();
        long killedAt = System.nanoTime();
        long[] suspect = new long[3];
        long[] down = new long[3];
        Await.until(
            victimId + " is down on both others",
            20_000,
            () -> {
              for (int o : observers) {
                String st = status(apis.get(o), victimId);
                long ms = (System.nanoTime() - killedAt) / 1_000_000;
                if (suspect[o] == 0 && !"alive".equals(st)) {
                  suspect[o] = ms;
                }
                if (down[o] == 0 && "down".equals(st)) {
                  down[o] = ms;
                }
              }
              return observers.stream().allMatch(o -> down[o] > 0);
            });
        observers.forEach(o -> suspectMs.add(suspect[o]));
        observers.forEach(o -> downMs.add(down[o]));
        JsonObject health = apis.get(0).get("/health").bodyAsJsonObject();
        assertEquals("degraded", health.getString("status"), health::encode);
        assertEquals(1, health.getLong("membersDown"), health::encode);

        procs.set(
            victim,
            JarProcess.start(
                dir.resolve("work-" + victimId + "-" + kill), configs.get(victim), Map.of()));
        Await.until(
            victimId + " is alive again with a higher incarnation",
            30_000,
            () ->
                observers.stream()
                    .allMatch(
                        o ->
                            "alive".equals(status(apis.get(o), victimId))
                                && apis.get(o).member(victimId).getLong("incarnation")
                                    > incarnation));
        Await.until(
            victimId + " sees the others alive",
            15_000,
            () ->
                observers.stream()
                    .allMatch(o -> "alive".equals(status(apis.get(victim), "n" + (o + 1)))));
      }
      long suspectP99 = percentile(suspectMs, 0.99);
      long downP99 = percentile(downMs, 0.99);
      System.out.printf(
          "discovery, 3 processes, %d kill -9: suspect at each observer p50 %d ms, p99 %d ms, max"
              + " %d ms; down p50 %d ms, p99 %d ms, max %d ms%n",
          kills,
          percentile(suspectMs, 0.5),
          suspectP99,
          percentile(suspectMs, 1.0),
          percentile(downMs, 0.5),
          downP99,
          percentile(downMs, 1.0));
      // The targets hold at p99 over 20 or more kills (-Dscribe.discoveryKills=20). The default
      // run's few samples make p99 their worst, so a suspicion gets the slack of one more round
      // there (a busy machine's late timer), as the schedule's bound is one round plus two probe
      // timeouts.
      long suspectBound = kills >= 20 ? 2_000 : 3_000;
      assertTrue(suspectP99 <= suspectBound, "suspect within the target, p99: " + suspectMs);
      assertTrue(downP99 <= 10_000, "down within 10 s, p99: " + downMs);

      // A pause: n2 stops for 5 s. When it runs again it convicts nobody.
      int[] logAt = new int[3];
      for (int i = 0; i < 3; i++) {
        logAt[i] = procs.get(i).stdout().length();
      }
      procs.get(1).signal("STOP");
      Thread.sleep(5_000); // the pause itself is what is tested
      procs.get(1).signal("CONT");
      Await.until("n2 answers again", 10_000, () -> "alive".equals(status(apis.get(1), "n1")));
      Await.until(
          "everyone sees n2 alive again",
          20_000,
          () ->
              "alive".equals(status(apis.get(0), "n2"))
                  && "alive".equals(status(apis.get(2), "n2")));
      Thread.sleep(3_000); // a few more rounds for a false conviction to show, if any
      String afterPause = procs.get(1).stdout().substring(logAt[1]);
      assertFalse(
          afterPause.matches("(?s).*member n[13] at \\S+ is (suspect|down).*"),
          "n2 convicted a healthy member after its pause:\n" + afterPause);
      // n1 and n3 may suspect the paused n2, but never each other.
      assertFalse(
          procs.get(0).stdout().substring(logAt[0]).matches("(?s).*member n3 at \\S+ is down.*"));
      assertFalse(
          procs.get(2).stdout().substring(logAt[2]).matches("(?s).*member n1 at \\S+ is down.*"));

      // Datagrams from someone without the key: dropped, counted, nothing changes.
      try (DatagramSocket stranger = new DatagramSocket()) {
        byte[] junk = "SD\u0001 not a packet".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int i = 0; i < 100; i++) {
          stranger.send(
              new DatagramPacket(junk, junk.length, InetAddress.getLoopbackAddress(), udp[0]));
        }
      }
      Await.until(
          "the junk is counted",
          5_000,
          () ->
              apis.get(0)
                      .get("/metrics")
                      .bodyAsJsonObject()
                      .getJsonObject("discovery")
                      .getJsonObject("dropped")
                      .getLong("malformed", 0L)
                  >= 100);
      for (String id : List.of("n1", "n2", "n3")) {
        assertTrue("alive".equals(status(apis.get(0), id)), id);
      }
    } finally {
      apis.forEach(Api::close);
      procs.forEach(JarProcess::close);
    }
  }
}
