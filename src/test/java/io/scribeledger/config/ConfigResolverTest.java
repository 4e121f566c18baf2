package io.scribeledger.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Validation names the key and the problem; SCRIBE_* variables override file values with the right
 * type.
 */
class ConfigResolverTest {

  static JsonObject valid() {
    return new JsonObject()
        .put("node", new JsonObject().put("id", "n1").put("dataDir", "data/n1"))
        .put("http", new JsonObject().put("port", 8080))
        .put("raft", new JsonObject().put("port", 9080));
  }

  @Test
  void defaultsFillTheRest() {
    NodeConfig c = ConfigResolver.resolve(valid());
    assertEquals(Path.of("data/n1"), c.node().dataDir());
    assertEquals(1024, c.limits().maxKeyBytes());
    assertEquals(16L * 1024 * 1024, c.limits().maxValueBytes());
    assertTrue(c.raft().peers().isEmpty());
    assertEquals(
        Math.min(64, 2 * Runtime.getRuntime().availableProcessors()),
        c.http().instances(),
        "one HTTP verticle per event loop");
  }

  @Test
  void environmentOverridesWinAndAreTyped() {
    JsonObject merged =
        valid()
            .put("SCRIBE_HTTP_PORT", "8181")
            .put("SCRIBE_NODE_DATA_DIR", "/var/lib/scribe")
            .put("SCRIBE_LIMITS_MAX_VALUE_BYTES", "1048576")
            .put(
                "SCRIBE_RAFT_PEERS",
                "[{\"id\":\"n1\",\"raftAddress\":\"a:1\",\"httpAddress\":\"a:2\"}]");
    NodeConfig c = ConfigResolver.resolve(merged);
    assertEquals(8181, c.http().port());
    assertEquals(Path.of("/var/lib/scribe"), c.node().dataDir());
    assertEquals(1048576, c.limits().maxValueBytes());
    assertEquals("a:1", c.raft().peers().get(0).raftAddress());
  }

  @Test
  void envNamesFollowTheUpperSnakeCaseRule() {
    JsonArray names = ConfigResolver.envNames();
    assertTrue(names.contains("SCRIBE_HTTP_PORT"));
    assertTrue(names.contains("SCRIBE_NODE_DATA_DIR"));
    assertTrue(names.contains("SCRIBE_LIMITS_MAX_VALUE_BYTES"));
    assertTrue(names.contains("SCRIBE_RAFT_ELECTION_TIMEOUT_MIN_MS"));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "bad http port         | http       | port                 | 70000     | http.port: must be between 1 and 65535",
        "negative raft port    | raft       | port                 | -1        | raft.port: must be between 1 and 65535",
        "port as text          | http       | port                 | '\"x\"'   | http.port: must be an integer",
        "empty dataDir         | node       | dataDir              | '\"\"'    | node.dataDir: missing",
        "bad node id           | node       | id                   | '\"a b\"' | node.id:",
        "heartbeat too slow    | raft       | heartbeatIntervalMs  | 5000      | raft.heartbeatIntervalMs: must be below raft.electionTimeoutMinMs",
        "tiny segment          | storage    | segmentSizeBytes     | 10        | storage.segmentSizeBytes:",
        "key limit over API    | limits     | maxKeyBytes          | 4096      | limits.maxKeyBytes:",
        "unknown key           | http       | prot                 | 1         | http.prot: unknown key",
      })
  void invalidValuesNameTheKey(
      String name, String section, String key, String json, String message) {
    JsonObject cfg = valid();
    cfg.getJsonObject(section, new JsonObject())
        .put(key, new JsonObject("{\"v\":" + json + "}").getValue("v"));
    if (!cfg.containsKey(section)) {
      cfg.put(
          section, new JsonObject().put(key, new JsonObject("{\"v\":" + json + "}").getValue("v")));
    }
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigResolver.resolve(cfg));
    assertTrue(e.getMessage().startsWith(message), e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), "one line");
  }

  /** A valid config with tiering on, then {@code key} set to {@code value} (or removed: null). */
  static JsonObject tiering(String key, Object value) {
    JsonObject t =
        new JsonObject()
            .put("enabled", true)
            .put("bucket", "ledger-archive")
            .put("endpoint", "http://127.0.0.1:9000")
            .put("accessKeyId", "id")
            .put("secretAccessKeyFile", "/run/secrets/s3");
    if (value == null) {
      t.remove(key);
    } else {
      t.put(key, value);
    }
    return valid().put("tiering", t);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "no bucket           | bucket              |                 | tiering.bucket: missing",
        "bad bucket          | bucket              | Ledger_Archive  | tiering.bucket: not an S3 bucket",
        "bad prefix          | prefix              | /abs/           | tiering.prefix:",
        "ftp endpoint        | endpoint            | ftp://host/     | tiering.endpoint:",
        "key without secret  | secretAccessKeyFile |                 | tiering.accessKeyId:",
        "unknown codec       | compression         | zstd            | tiering.compression:",
      })
  void tieringRefusesWhatCannotWork(String name, String key, String value, String message) {
    JsonObject cfg = tiering(key, value);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigResolver.resolve(cfg));
    assertTrue(e.getMessage().startsWith(message), e.getMessage());
  }

  @Test
  void tieringIsOffByDefaultAndTakesItsSettings() {
    assertEquals(false, ConfigResolver.resolve(valid()).tiering().enabled());
    NodeConfig.Tiering t =
        ConfigResolver.resolve(
                tiering("partBytes", 6L << 20).put("SCRIBE_TIERING_RETAIN_SEGMENTS", "5"))
            .tiering();
    assertEquals("ledger-archive", t.bucket());
    assertEquals(6L << 20, t.partBytes());
    assertEquals(5, t.retainSegments());
    assertEquals(Path.of("/run/secrets/s3"), t.credentials().get().secretAccessKeyFile());
    assertThrows(
        ConfigException.class, () -> ConfigResolver.resolve(tiering("partBytes", 1L << 20)));
  }

  @Test
  void discoveryNeedsAKeyFileAndSaneTimings() {
    JsonObject on = new JsonObject().put("enabled", true);
    assertTrue(
        assertThrows(
                ConfigException.class, () -> ConfigResolver.resolve(valid().put("discovery", on)))
            .getMessage()
            .startsWith("discovery.keyFile: missing"));
    JsonObject keyed = on.copy().put("keyFile", "/run/secrets/discovery");
    NodeConfig.Discovery d = ConfigResolver.resolve(valid().put("discovery", keyed)).discovery();
    assertEquals(7946, d.port());
    assertEquals(1000, d.intervalMs());
    for (JsonObject bad :
        List.of(
            keyed.copy().put("seeds", new JsonArray().add("no-port")),
            keyed.copy().put("probeTimeoutMs", 600),
            keyed.copy().put("suspicionMaxMs", 1000),
            keyed.copy().put("host", "::1"))) {
      assertThrows(
          ConfigException.class, () -> ConfigResolver.resolve(valid().put("discovery", bad)));
    }
    assertEquals(false, ConfigResolver.resolve(valid()).discovery().enabled());
  }

  @Test
  void missingDataDir() {
    JsonObject cfg = valid();
    cfg.getJsonObject("node").remove("dataDir");
    assertTrue(
        assertThrows(ConfigException.class, () -> ConfigResolver.resolve(cfg))
            .getMessage()
            .startsWith("node.dataDir"));
  }

  @Test
  void unknownSection() {
    JsonObject cfg = valid().put("htp", new JsonObject());
    assertTrue(
        assertThrows(ConfigException.class, () -> ConfigResolver.resolve(cfg))
            .getMessage()
            .startsWith("htp: unknown section"));
  }

  @Test
  void sameHttpAndRaftPort() {
    JsonObject cfg = valid();
    cfg.getJsonObject("raft").put("port", 8080);
    assertTrue(
        assertThrows(ConfigException.class, () -> ConfigResolver.resolve(cfg))
            .getMessage()
            .startsWith("raft.port"));
  }

  @Test
  void badEnvironmentValueNamesTheVariable() {
    JsonObject cfg = valid().put("SCRIBE_HTTP_PORT", "eighty");
    assertTrue(
        assertThrows(ConfigException.class, () -> ConfigResolver.resolve(cfg))
            .getMessage()
            .startsWith("SCRIBE_HTTP_PORT (http.port): not an integer"));
  }

  @Test
  void peersMustIncludeThisNodeAndBeWellFormed() {
    JsonObject cfg = valid();
    cfg.getJsonObject("raft")
        .put(
            "peers",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("id", "n2")
                        .put("raftAddress", "h:1")
                        .put("httpAddress", "h:2")));
    assertTrue(
        assertThrows(ConfigException.class, () -> ConfigResolver.resolve(cfg))
            .getMessage()
            .startsWith("raft.peers"));
    cfg.getJsonObject("raft")
        .put(
            "peers",
            new JsonArray().add(new JsonObject().put("id", "n1").put("raftAddress", "nope")));
    assertTrue(
        assertThrows(ConfigException.class, () -> ConfigResolver.resolve(cfg))
            .getMessage()
            .startsWith("raft.peers[0].raftAddress"));
  }

  @Test
  void aNodeOnANetworkAddressRefusesToRunOpenUnlessTold() {
    NodeConfig loopback = ConfigResolver.resolve(valid());
    assertEquals("127.0.0.1", loopback.http().host(), "loopback by default");
    assertTrue(ConfigResolver.openToNetworkProblem(loopback).isEmpty());

    JsonObject network = valid();
    network.getJsonObject("http").put("host", "0.0.0.0");
    network.getJsonObject("raft").put("host", "0.0.0.0");
    ConfigException refused =
        assertThrows(ConfigException.class, () -> ConfigResolver.resolve(network));
    assertTrue(refused.getMessage().contains("HTTP on 0.0.0.0 without TLS"), refused.getMessage());
    assertTrue(refused.getMessage().contains("without API tokens"), refused.getMessage());
    assertTrue(refused.getMessage().contains("Raft on 0.0.0.0 without mutual TLS"));

    JsonObject tlsOnly =
        network
            .copy()
            .put(
                "tls",
                new JsonObject()
                    .put("certFile", "c.pem")
                    .put("keyFile", "k.pem")
                    .put("caFile", "ca.pem"));
    ConfigException noTokens =
        assertThrows(ConfigException.class, () -> ConfigResolver.resolve(tlsOnly));
    assertTrue(noTokens.getMessage().contains("without API tokens"), noTokens.getMessage());
    assertFalse(noTokens.getMessage().contains("without TLS"), noTokens.getMessage());
    NodeConfig secured =
        ConfigResolver.resolve(
            tlsOnly.copy().put("security", new JsonObject().put("tokensFile", "tokens.json")));
    assertTrue(secured.security().tls().isPresent() && secured.security().tokensRequired());

    NodeConfig insecure =
        ConfigResolver.resolve(network.copy().put("SCRIBE_SECURITY_ALLOW_INSECURE", "true"));
    assertTrue(insecure.security().allowInsecure());
    assertTrue(ConfigResolver.openToNetworkProblem(insecure).isPresent(), "still reported (WARN)");

    JsonObject partialTls = valid().put("tls", new JsonObject().put("certFile", "c.pem"));
    ConfigException partial =
        assertThrows(ConfigException.class, () -> ConfigResolver.resolve(partialTls));
    assertTrue(partial.getMessage().startsWith("tls.keyFile"), partial.getMessage());
  }

  @Test
  void rateLimitsAreOffByDefaultAndTheirEnvironmentNamesAreSnakeCase() {
    NodeConfig c = ConfigResolver.resolve(valid());
    assertFalse(c.rateLimit().enabled());
    NodeConfig limited =
        ConfigResolver.resolve(valid().put("SCRIBE_RATE_LIMIT_REQUESTS_PER_SECOND", "100"));
    assertEquals(100, limited.rateLimit().requestsPerSecond());
    assertEquals(200, limited.rateLimit().burstRequests(), "burst defaults to twice the rate");
  }
}
