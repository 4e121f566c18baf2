package io.scribeledger.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.Cli;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every member registers its signing key through Raft, so every node lists every key; a client that
 * pins that key set (and the cluster id) accepts heads from any member behind a load balancer, and
 * refuses a head from a key it did not pin or for another cluster.
 */
@ExtendWith(VertxExtension.class)
class PinnedKeysTest {

  @Test
  void auditAcceptsAnyPinnedMemberKeyAndNoOther(Vertx vertx, @TempDir Path dir) throws Exception {
    List<JsonObject> configs =
        TestCluster.configs(
            dir, 3, new JsonObject().put("node", new JsonObject().put("clusterId", "prod-eu")));
    List<TestNode> nodes = TestCluster.start(configs);
    try {
      List<Api> apis = new ArrayList<>();
      nodes.forEach(n -> apis.add(new Api(vertx, n.httpPort())));
      assertEquals(201, apis.get(0).put("/kv/a", "1").statusCode());
      // Every node lists all three keys once the registrations are applied (polled, bounded).
      NavigableSet<String> keys = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      boolean agreed = false;
      while (!agreed && System.nanoTime() < deadline) {
        List<NavigableSet<String>> seen = new ArrayList<>();
        for (Api api : apis) {
          seen.add(keysOf(api.get("/cluster/members").bodyAsJsonObject().getJsonArray("members")));
        }
        keys = seen.get(0);
        agreed = keys.size() == 3 && seen.stream().allMatch(keys::equals);
        if (!agreed) {
          TimeUnit.MILLISECONDS.sleep(100); // poll interval of a deadline-bounded wait
        }
      }
      assertTrue(agreed, "every node lists every member's key: " + keys);

      Path pinned = dir.resolve("keys.txt");
      Files.writeString(pinned, "# prod-eu members\n" + String.join("\n", keys) + "\n");
      Path state = dir.resolve("audit.json");
      for (TestNode node : nodes) {
        Cli run = audit(node, state, pinned, "prod-eu");
        assertEquals(0, run.exitCode(), run.err());
      }
      Cli otherCluster = audit(nodes.get(1), state, pinned, "prod-us");
      assertEquals(1, otherCluster.exitCode());
      assertTrue(otherCluster.err().contains("not prod-us"), otherCluster.err());

      Path partial = dir.resolve("partial.txt");
      Files.writeString(partial, keys.first() + "\n");
      int refused = 0;
      for (TestNode node : nodes) {
        Cli run = audit(node, state, partial, "prod-eu");
        if (run.exitCode() == 1) {
          assertTrue(run.err().contains("not pinned"), run.err());
          refused++;
        }
      }
      assertEquals(2, refused, "the two members whose keys are not pinned are refused");
      Cli noCluster =
          Cli.run("verify", "--url", AuditTest.url(nodes.get(0)), "--keys", pinned.toString(), "a");
      assertEquals(1, noCluster.exitCode(), "pinned keys need the cluster too");

      Cli verify =
          Cli.run(
              "verify",
              "--url",
              AuditTest.url(nodes.get(2)),
              "--keys",
              pinned.toString(),
              "--cluster",
              "prod-eu",
              "a");
      assertEquals(0, verify.exitCode(), verify.err());
      assertTrue(verify.out().contains("(pinned)"), verify.out());
      apis.forEach(Api::close);
    } finally {
      nodes.forEach(TestNode::close);
    }
  }

  /** {@code scribe audit} of {@code node} with a state file, pinned keys and a cluster id. */
  private static Cli audit(TestNode node, Path state, Path keys, String cluster) {
    return Cli.run(
        "audit",
        "--url",
        AuditTest.url(node),
        "--state",
        state.toString(),
        "--keys",
        keys.toString(),
        "--cluster",
        cluster);
  }

  private static NavigableSet<String> keysOf(JsonArray members) {
    TreeSet<String> keys = new TreeSet<>();
    for (int i = 0; i < members.size(); i++) {
      String key = members.getJsonObject(i).getString("publicKey");
      if (key != null) {
        keys.add(key);
      }
    }
    return keys;
  }
}
