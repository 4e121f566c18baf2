package io.scribeledger.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.HttpProbe;
import io.scribeledger.support.JarProcess;
import io.scribeledger.support.RawHttp;
import io.scribeledger.support.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Linearizable reads around a paused leader (SIGSTOP). First: a leader paused while the others
 * elect a new leader and acknowledge a newer value must not answer a linearizable read with the
 * older one when it resumes. Second ({@link
 * #aFollowersReadWaitsUntilAResumedLeaderIsConfirmedAgain}): a follower's read goes through the
 * same check on the leader.
 *
 * <p>In the first test, the read is on its socket before the resume, so it is among the first
 * things the resumed node serves, and Ratis, which answers a leader's ReadIndex at once from a
 * confirmation of any age, has one: a read served while both followers were stopped for longer than
 * the lease confirmed the current commit index just before the pause. On this machine the new
 * term's messages buffered for the paused node reached Ratis first in every run, so this test did
 * not fail before {@code LeaderConfirmation}; it guards the scenario ({@code ClusterProcessIT} hit
 * the stale answer once in about 30 runs, through readiness).
 */
@ExtendWith(VertxExtension.class)
class PausedLeaderReadIT {

  /** Rounds that keep the leader through the followers' stop (about half do; 16 attempts). */
  private static final int ROUNDS = 2;

  /** Longer than the leader's lease (270 ms with the default election timeout). */
  private static final long LAPSE_MS = 300;

  /** How long the leader stays paused while the others go on. */
  private static final long PAUSE_NANOS = TimeUnit.SECONDS.toNanos(4);

  /**
   * The short-pause test's minimum election timeout: after a pause the leader counts only answers
   * received this long after it noticed (LeaderConfirmation waits one minimum election timeout).
   */
  private static final long ELECTION_TIMEOUT_MIN_MS = 600;

  /** The short-pause test's timing: wider than the tests' usual 150 ms, for a pause in between. */
  private static final JsonObject SLOWER_ELECTIONS =
      new JsonObject()
          .put(
              "raft",
              new JsonObject()
                  .put("electionTimeoutMinMs", ELECTION_TIMEOUT_MIN_MS)
                  .put("electionTimeoutMaxMs", 2 * ELECTION_TIMEOUT_MIN_MS));

  /**
   * Longer than what the leader counts as a pause of its process (half its minimum election timeout
   * plus its 20 ms tick: 320 ms). A follower starts an election only after its own timeout
   * (600-1200 ms) without a heartbeat, and Ratis sends one every half minimum election timeout (300
   * ms), so in most attempts the paused node still leads when it resumes; the others are skipped.
   */
  private static final long SHORT_PAUSE_MS = 400;

  /** Rounds where the paused node still leads after the short pause. */
  private static final int SHORT_ROUNDS = 3;

  @Test
  void aResumedLeaderNeverServesTheValueItHeldWhenPaused(
      Vertx vertx, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    List<JsonObject> configs = TestCluster.configs(dir, 3, new JsonObject());
    List<JarProcess> procs = new ArrayList<>();
    List<Api> apis = new ArrayList<>();
    try {
      start(vertx, dir, configs, procs, apis);
      int live = 0;
      int rounds = 0;
      for (int attempt = 0; rounds < ROUNDS && attempt < 8 * ROUNDS; attempt++) {
        int leader = apis.get(live).leaderNumber() - 1;
        Api paused = apis.get(leader);
        Api other = apis.get((leader + 1) % 3);
        int port = port(configs.get(leader));
        String key = "/kv/round-" + attempt;
        assertEquals(201, paused.put(key, "before").statusCode());
        long term = status(paused).getLong("term");

        // Both followers stopped for longer than the leader's lease (0.9 x the minimum election
        // timeout): a read on the leader then confirms leadership with a round of heartbeats, as
        // reads do whenever the lease has lapsed (an overloaded node). Ratis keeps that round's
        // commit index as confirmed for good.
        int first = (leader + 1) % 3;
        int second = (leader + 2) % 3;
        procs.get(first).signal("STOP");
        procs.get(second).signal("STOP");
        TimeUnit.MILLISECONDS.sleep(LAPSE_MS); // the fault: how long they stay stopped
        Socket confirming = RawHttp.begin(port, get(key));
        // The fault's timing: the read must reach the leader's Raft server before a follower
        // answers a heartbeat again, which would renew the lease instead.
        TimeUnit.MILLISECONDS.sleep(100);
        procs.get(second).signal("CONT");
        RawHttp.Raw confirmed = RawHttp.readUntilClosed(confirming);
        confirming.close();
        procs.get(first).signal("CONT");
        if (confirmed.status() != 200 || !stillLeads(paused, term)) {
          System.out.printf(
              "attempt %d: stopping the followers of n%d cost it the lead (%s); again%n",
              attempt, leader + 1, confirmed.text());
          new HttpProbe(ClusterProcessIT.url(configs.get(leader)))
              .awaitStatus("/health/ready", 200, 30_000);
          continue;
        }
        assertEquals("before", confirmed.body());

        procs.get(leader).signal("STOP");
        long stopped = System.nanoTime();
        HttpResponse<Buffer> after = putUntilAcknowledged(other, key, "after");
        // Long enough that the new leader's streams to the paused node time out: on resuming, it
        // finds nothing from the new term waiting on its sockets (as after a long GC pause).
        TimeUnit.NANOSECONDS.sleep(Math.max(0, PAUSE_NANOS - (System.nanoTime() - stopped)));
        Socket read = RawHttp.begin(port, get(key));
        procs.get(leader).signal("CONT");
        RawHttp.Raw answer = RawHttp.readUntilClosed(read);
        read.close();

        System.out.printf(
            "attempt %d: n%d paused; \"after\" acknowledged at index %s; the resumed node"
                + " answered %d %s%n",
            attempt, leader + 1, after.getHeader("X-Ledger-Index"), answer.status(), answer.body());
        assertTrue(
            answer.status() == 200 ? answer.body().equals("after") : answer.status() >= 500,
            "a linearizable read on the resumed leader answered "
                + answer.text()
                + " after \"after\" was acknowledged");
        new HttpProbe(ClusterProcessIT.url(configs.get(leader)))
            .awaitStatus("/health/ready", 200, 30_000);
        assertEquals("after", paused.get(key).bodyAsString());
        live = leader;
        rounds++;
      }
      assertEquals(ROUNDS, rounds, "rounds where stopping the followers kept the leader");
    } finally {
      stop(procs, apis);
    }
  }

  /**
   * A follower's linearizable read goes through the leader's own confirmation, not only Ratis's:
   * after a pause of the leader's process, the leader serves no read, its followers' included,
   * until a majority has answered it since, which it counts only from a whole minimum election
   * timeout after it noticed the pause (answers sooner may be replies buffered during it). Ratis
   * answers a follower's ReadIndex from a confirmation of any age, so before, the follower's read
   * came back at once; with five voters, or a listener, such a follower can be on a deposed
   * leader's side of a split and serve a stale value. The time bound is the rule under test, not a
   * speed: a read answered sooner was answered on an unconfirmed leadership.
   */
  @Test
  void aFollowersReadWaitsUntilAResumedLeaderIsConfirmedAgain(
      Vertx vertx, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    List<JsonObject> configs = TestCluster.configs(dir, 3, SLOWER_ELECTIONS);
    List<JarProcess> procs = new ArrayList<>();
    List<Api> apis = new ArrayList<>();
    try {
      start(vertx, dir, configs, procs, apis);
      int rounds = 0;
      for (int attempt = 0; rounds < SHORT_ROUNDS && attempt < 5 * SHORT_ROUNDS; attempt++) {
        int leader = apis.get(0).leaderNumber() - 1;
        Api follower = apis.get((leader + 1) % 3);
        String key = "/kv/short-" + attempt;
        assertEquals(201, follower.put(key, "v").statusCode());
        assertEquals("v", follower.get(key).bodyAsString());
        long term = status(apis.get(leader)).getLong("term");

        procs.get(leader).signal("STOP");
        TimeUnit.MILLISECONDS.sleep(SHORT_PAUSE_MS); // the fault: how long the leader is paused
        long resumed = System.nanoTime();
        procs.get(leader).signal("CONT");
        HttpResponse<Buffer> read = follower.get(key);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - resumed);

        if (!stillLeads(apis.get(leader), term)) {
          System.out.printf(
              "attempt %d: a follower elected a new leader during the pause of n%d; again%n",
              attempt, leader + 1);
          continue;
        }
        System.out.printf(
            "attempt %d: n%d paused %d ms; a read on its follower answered %d after %d ms%n",
            attempt, leader + 1, SHORT_PAUSE_MS, read.statusCode(), tookMs);
        assertEquals(200, read.statusCode(), read.bodyAsString());
        assertEquals("v", read.bodyAsString());
        assertTrue(
            tookMs >= ELECTION_TIMEOUT_MIN_MS,
            "a follower's read was answered "
                + tookMs
                + " ms after its leader resumed from a pause, before any answer the leader"
                + " received could confirm it still led");
        rounds++;
      }
      assertEquals(SHORT_ROUNDS, rounds, "rounds where the paused node still led afterwards");
    } finally {
      stop(procs, apis);
    }
  }

  private static void start(
      Vertx vertx, Path dir, List<JsonObject> configs, List<JarProcess> procs, List<Api> apis)
      throws Exception {
    for (int i = 0; i < 3; i++) {
      procs.add(
          JarProcess.start(dir.resolve("work-n" + (i + 1)), configs.get(i), java.util.Map.of()));
    }
    for (JsonObject c : configs) {
      new HttpProbe(ClusterProcessIT.url(c)).awaitStatus("/health/ready", 200, 90_000);
      apis.add(new Api(vertx, port(c), 4));
    }
  }

  private static void stop(List<JarProcess> procs, List<Api> apis) throws Exception {
    apis.forEach(Api::close);
    for (JarProcess p : procs) {
      p.signal("CONT");
      p.close();
    }
  }

  /** PUTs until a new leader acknowledges it (503 while the others elect one). */
  private static HttpResponse<Buffer> putUntilAcknowledged(Api api, String key, String value)
      throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    HttpResponse<Buffer> r = api.put(key, value);
    while (r.statusCode() >= 500 && System.nanoTime() < deadline) {
      Thread.sleep(50); // poll interval of a deadline-bounded wait
      r = api.put(key, value);
    }
    assertEquals(201, r.statusCode(), r.bodyAsString());
    return r;
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  }

  private static JsonObject status(Api api) {
    return api.get("/cluster/status").bodyAsJsonObject();
  }

  /** Whether the node still leads in {@code term}: the followers' stop did not cost it the lead. */
  private static boolean stillLeads(Api api, long term) {
    JsonObject s = status(api);
    return s.getLong("term") == term && "LEADER".equals(s.getString("role"));
  }

  private static int port(JsonObject c) {
    return c.getJsonObject("http").getInteger("port");
  }
}
