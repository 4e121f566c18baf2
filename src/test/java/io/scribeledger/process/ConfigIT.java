package io.scribeledger.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.HttpProbe;
import io.scribeledger.support.JarProcess;
import io.scribeledger.support.Ports;
import io.scribeledger.support.TestNode;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An invalid config makes the jar exit non-zero with one line naming the key, and no stack trace.
 */
class ConfigIT {

  record Case(String name, Consumer<JsonObject> edit, Map<String, String> env, String expected) {
    @Override
    public String toString() {
      return name;
    }
  }

  static List<Arguments> invalidConfigs() {
    return List.of(
        Arguments.of(
            new Case(
                "bad port",
                c -> c.getJsonObject("http").put("port", 70000),
                Map.of(),
                "http.port")),
        Arguments.of(
            new Case(
                "missing dataDir",
                c -> c.getJsonObject("node").remove("dataDir"),
                Map.of(),
                "node.dataDir")),
        Arguments.of(
            new Case(
                "heartbeat not below election timeout",
                c -> c.getJsonObject("raft").put("heartbeatIntervalMs", 150),
                Map.of(),
                "raft.heartbeatIntervalMs")),
        Arguments.of(
            new Case(
                "unknown section",
                c -> c.put("storge", new JsonObject()),
                Map.of(),
                "storge: unknown section")),
        Arguments.of(
            new Case(
                "bad environment override",
                c -> {},
                Map.of("SCRIBE_HTTP_PORT", "eighty"),
                "SCRIBE_HTTP_PORT (http.port)")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidConfigs")
  void invalidConfigExitsWithOneLine(Case c, @TempDir Path dir) throws Exception {
    JsonObject config = TestNode.config("n1", dir.resolve("data"), new JsonObject());
    c.edit().accept(config);
    JarProcess p = JarProcess.start(dir, config, c.env());
    try {
      int code = p.awaitExit(60_000);
      assertNotEquals(0, code, "exit code");
      String err = p.stderr();
      List<String> lines = err.lines().filter(l -> !l.isBlank()).toList();
      assertEquals(1, lines.size(), "exactly one line on stderr: " + err);
      assertTrue(
          lines.get(0).startsWith("scribe-ledger: invalid configuration: " + c.expected()),
          lines.get(0));
      assertFalse((err + p.stdout()).contains("\tat "), "no stack trace");
    } finally {
      p.close();
    }
  }

  /** A node whose HTTP or Raft port another process holds says which one, in one line. */
  @ParameterizedTest(name = "{0} port taken")
  @ValueSource(strings = {"http", "raft"})
  void aTakenPortStopsTheStartWithOneLine(String section, @TempDir Path dir) throws Exception {
    JsonObject config = TestNode.config("n1", dir.resolve("data"), new JsonObject());
    int port = config.getJsonObject(section).getInteger("port");
    java.net.ServerSocket taken =
        new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress());
    try {
      JarProcess p = JarProcess.start(dir, config, Map.of());
      try {
        assertEquals(1, p.awaitExit(60_000), "exit code");
        String err = p.stderr();
        List<String> lines = err.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), "exactly one line on stderr: " + err);
        assertTrue(lines.get(0).startsWith("scribe-ledger: failed to start: "), lines.get(0));
        assertTrue(lines.get(0).contains("127.0.0.1:" + port), lines.get(0));
        assertTrue(lines.get(0).contains("in use"), lines.get(0));
        assertFalse((err + p.stdout()).contains("\tat "), "no stack trace: " + p.stdout());
      } finally {
        p.close();
      }
    } finally {
      taken.close();
    }
  }

  @Test
  void environmentOverridesTheFile(@TempDir Path dir) throws Exception {
    JsonObject config = TestNode.config("n1", dir.resolve("data"), new JsonObject());
    int port = Ports.free();
    JarProcess p =
        JarProcess.start(
            dir,
            config,
            Map.of("SCRIBE_HTTP_PORT", Integer.toString(port), "SCRIBE_NODE_ID", "from-env"));
    try {
      new HttpProbe("http://127.0.0.1:" + port).awaitStatus("/health", 200, 60_000);
      assertTrue(p.isAlive());
    } finally {
      p.close();
    }
  }
}
