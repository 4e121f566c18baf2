package io.scribeledger.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Api;
import io.scribeledger.support.Cli;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scribe audit} passes while the ledger only grows and fails loudly when its history
 * changes.
 */
@ExtendWith(VertxExtension.class)
class AuditTest {

  static String url(TestNode node) {
    return "http://127.0.0.1:" + node.httpPort();
  }

  @Test
  void passesAcrossAppendsAndRestartsAndFailsOnARewrittenHistory(Vertx vertx, @TempDir Path dir)
      throws Exception {
    Path state = dir.resolve("audit/state.json");
    JsonObject config = TestNode.config("n1", dir.resolve("real"), new JsonObject());
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      for (int i = 0; i < 10; i++) {
        api.put("/kv/a" + i, "original " + i);
      }
      assertEquals(
          0,
          Cli.run("audit", "--url", url(node), "--state", state.toString()).exitCode(),
          "first run trusts");
      api.put("/kv/more", "m");
      Cli second = Cli.run("audit", "--url", url(node), "--state", state.toString());
      assertEquals(0, second.exitCode(), second.err());
      assertTrue(second.out().contains("from 10 to 11"), second.out());
    }
    try (TestNode node = TestNode.start(config);
        Api api = new Api(vertx, node.httpPort())) {
      assertEquals(
          0,
          Cli.run("audit", "--url", url(node), "--state", state.toString()).exitCode(),
          "same head after restart");
      api.put("/kv/after-restart", "r");
      assertEquals(0, Cli.run("audit", "--url", url(node), "--state", state.toString()).exitCode());
    }
    String trusted = Files.readString(state);
    assertEquals(12, new JsonObject(trusted).getLong("treeSize"));

    // A forged data dir: the same node key, the same number of entries, a different history.
    Path forged = dir.resolve("forged");
    Files.createDirectories(forged.resolve("keys"));
    for (String f : new String[] {"node-ed25519.pk8", "node-ed25519.pub"}) {
      Files.copy(dir.resolve("real/keys").resolve(f), forged.resolve("keys").resolve(f));
    }
    JsonObject forgedConfig = TestNode.config("n1", forged, new JsonObject());
    try (TestNode node = TestNode.start(forgedConfig);
        Api api = new Api(vertx, node.httpPort())) {
      for (int i = 0; i < 12; i++) {
        api.put("/kv/a" + i, "rewritten " + i);
      }
      Cli same = Cli.run("audit", "--url", url(node), "--state", state.toString());
      assertEquals(1, same.exitCode(), same.out());
      assertTrue(same.err().contains("HISTORY CHANGED"), same.err());
      api.put("/kv/grown", "g");
      Cli grown = Cli.run("audit", "--url", url(node), "--state", state.toString());
      assertEquals(1, grown.exitCode());
      assertTrue(grown.err().contains("does not extend"), grown.err());
      assertEquals(
          trusted, Files.readString(state), "a failed audit never advances the trusted head");
    }

    // A node with another key fails the signature check before anything else.
    try (TestNode node =
            TestNode.start(TestNode.config("n1", dir.resolve("stranger"), new JsonObject()));
        Api api = new Api(vertx, node.httpPort())) {
      for (int i = 0; i < 13; i++) {
        api.put("/kv/s" + i, "s");
      }
      Cli stranger = Cli.run("audit", "--url", url(node), "--state", state.toString());
      assertEquals(1, stranger.exitCode());
      assertTrue(stranger.err().contains("key other than the trusted one"), stranger.err());
    }
  }

  @Test
  void verifyPinsTheKeyAndNamesWhatFailed(Vertx vertx, @TempDir Path dir) {
    try (TestNode node = TestNode.start(TestNode.config("n1", dir, new JsonObject()));
        Api api = new Api(vertx, node.httpPort())) {
      api.put("/kv/pinned", "v1");
      api.put("/kv/pinned", "v2");
      api.delete("/kv/gone-" + 0);
      api.put("/kv/gone", "x");
      api.delete("/kv/gone");
      JsonObject me =
          api.get("/cluster/members").bodyAsJsonObject().getJsonArray("members").getJsonObject(0);
      String key = me.getString("publicKey");
      Cli ok = Cli.run("verify", "--url", url(node), "--public-key", key, "pinned");
      assertEquals(0, ok.exitCode(), ok.err());
      assertTrue(ok.out().contains("(pinned)") && ok.out().trim().endsWith("verified"), ok.out());
      assertEquals(0, Cli.run("verify", "--url", url(node), "--version", "1", "pinned").exitCode());
      assertEquals(
          0,
          Cli.run("verify", "--url", url(node), "gone").exitCode(),
          "a tombstone is an entry too");
      String otherKey =
          Base64.getEncoder()
              .encodeToString(
                  io.scribeledger.security.NodeKeys.loadOrCreate(dir.resolve("other")).publicKey());
      Cli wrongKey = Cli.run("verify", "--url", url(node), "--public-key", otherKey, "pinned");
      assertEquals(1, wrongKey.exitCode());
      assertTrue(wrongKey.err().contains("key other than the trusted one"), wrongKey.err());
      assertEquals(1, Cli.run("verify", "--url", url(node), "never-written").exitCode());
      assertEquals(
          2,
          Cli.run("verify", "--url", "http://127.0.0.1:1", "pinned").exitCode(),
          "unreachable node");
      assertEquals(2, Cli.run("verify", "pinned").exitCode(), "usage error");
    }
  }

  @Test
  void anAuditBegunOnAnEmptyLedgerFollowsItsFirstWrites(Vertx vertx, @TempDir Path dir)
      throws Exception {
    Path state = dir.resolve("state.json");
    try (TestNode node =
            TestNode.start(TestNode.config("n1", dir.resolve("n1"), new JsonObject()));
        Api api = new Api(vertx, node.httpPort())) {
      Cli first = Cli.run("audit", "--url", url(node), "--state", state.toString());
      assertEquals(0, first.exitCode(), first.err());
      assertTrue(first.out().contains("tree size 0"), first.out());
      for (int i = 0; i < 3; i++) {
        api.put("/kv/e" + i, "v");
      }
      Cli grown = Cli.run("audit", "--url", url(node), "--state", state.toString());
      assertEquals(0, grown.exitCode(), grown.err());
      assertTrue(grown.out().contains("from 0 to 3"), grown.out());
      assertEquals(3, new JsonObject(Files.readString(state)).getLong("treeSize"));

      // A trusted head of size 0 whose root is not the empty tree's was a lie; nothing extends it.
      JsonObject lie = new JsonObject(Files.readString(state)).put("treeSize", 0);
      Files.writeString(state, lie.encode());
      Cli lied = Cli.run("audit", "--url", url(node), "--state", state.toString());
      assertEquals(1, lied.exitCode(), lied.out());
      assertTrue(lied.err().contains("HISTORY CHANGED"), lied.err());
      assertEquals(
          lie.encode(), Files.readString(state), "a failed audit never advances the trusted head");
    }
  }
}
