package io.scribeledger.support;

import io.scribeledger.app.MainVerticle;
import io.scribeledger.app.ScribeLauncher;
import io.scribeledger.cli.CaTrust;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * A real node (Raft, MapDB, segment files, HTTP on loopback) in this JVM, on its own Vert.x
 * instance.
 */
public final class TestNode implements AutoCloseable {

  private final Vertx vertx;
  private final JsonObject config;

  private TestNode(Vertx vertx, JsonObject config) {
    this.vertx = vertx;
    this.config = config;
  }

  /**
   * A single-node config on free loopback ports, with {@code overrides} merged section by section.
   */
  public static JsonObject config(String nodeId, Path dataDir, JsonObject overrides) {
    JsonObject cfg =
        new JsonObject()
            .put("node", new JsonObject().put("id", nodeId).put("dataDir", dataDir.toString()))
            .put(
                "http",
                new JsonObject()
                    .put("host", "127.0.0.1")
                    .put("port", Ports.free())
                    .put("readTimeoutMs", 1000))
            .put(
                "raft",
                new JsonObject()
                    .put("host", "127.0.0.1")
                    .put("port", Ports.free())
                    .put("peers", new JsonArray())
                    .put("electionTimeoutMinMs", 150)
                    .put("electionTimeoutMaxMs", 300)
                    .put("heartbeatIntervalMs", 50));
    for (String section : overrides.fieldNames()) {
      JsonObject s = cfg.getJsonObject(section, new JsonObject());
      s.mergeIn(overrides.getJsonObject(section));
      cfg.put(section, s);
    }
    return cfg;
  }

  public static TestNode start(JsonObject config) {
    return start(config, new VertxOptions());
  }

  /** As above, on a Vert.x instance made with {@code options} (metrics added). */
  public static TestNode start(JsonObject config, VertxOptions options) {
    TestNode node = launch(config, options);
    try {
      node.awaitLeader();
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
    return node;
  }

  /**
   * Deploys the node without waiting for a leader (a node about to join a running cluster knows
   * none).
   */
  public static TestNode launch(JsonObject config) {
    return launch(config, new VertxOptions());
  }

  private static TestNode launch(JsonObject config, VertxOptions options) {
    if (!SLF4JBridgeHandler.isInstalled()) {
      // As the launcher does: gRPC inside Ratis logs through java.util.logging.
      SLF4JBridgeHandler.removeHandlersForRootLogger();
      SLF4JBridgeHandler.install();
    }
    Vertx vertx =
        Vertx.vertx(new VertxOptions(options).setMetricsOptions(ScribeLauncher.metricsOptions()));
    try {
      vertx
          .deployVerticle(new MainVerticle(), new DeploymentOptions().setConfig(config))
          .await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close().await();
      throw new IllegalStateException("node did not start: " + e.getMessage(), e);
    }
    return new TestNode(vertx, config);
  }

  /** Polls {@code /health} until this node knows a leader (bounded). */
  private void awaitLeader() {
    new HttpProbe(baseUrl(), sslContext(config)).awaitStatus("/health", 200, 30_000);
  }

  /** A client context trusting the node's CA when its config has a {@code tls} section. */
  public static SSLContext sslContext(JsonObject config) {
    JsonObject tls = config.getJsonObject("tls");
    if (tls == null) {
      return null;
    }
    try {
      return CaTrust.sslContext(Path.of(tls.getString("caFile")));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The node's own Vert.x instance. */
  public Vertx vertx() {
    return vertx;
  }

  public JsonObject config() {
    return config;
  }

  public int httpPort() {
    return config.getJsonObject("http").getInteger("port");
  }

  public String baseUrl() {
    return (config.containsKey("tls") ? "https" : "http") + "://127.0.0.1:" + httpPort();
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
