package io.scribeledger.support;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A CA and node certificates made by the project's own {@code cluster-scripts/make-certs.sh}
 * (openssl), so the tests also prove the script works.
 */
public record TestCerts(Path dir) {

  /**
   * Runs the script into {@code dir} for {@code nodes}; skips the test (with the reason) when
   * openssl is missing. {@code .ci/run} installs it.
   */
  public static TestCerts make(Path dir, String... nodes) {
    assumeTrue(onPath("openssl"), "openssl is not installed (apt-get install openssl)");
    List<String> cmd =
        new ArrayList<>(List.of("sh", "cluster-scripts/make-certs.sh", dir.toString()));
    cmd.addAll(List.of(nodes));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("make-certs.sh failed: " + out);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return new TestCerts(dir);
  }

  public Path ca() {
    return dir.resolve("ca.pem");
  }

  public Path cert(String node) {
    return dir.resolve(node + ".pem");
  }

  public Path key(String node) {
    return dir.resolve(node + "-key.pem");
  }

  /** The {@code tls} config section of {@code node}. */
  public JsonObject tlsSection(String node) {
    return new JsonObject()
        .put("certFile", cert(node).toString())
        .put("keyFile", key(node).toString())
        .put("caFile", ca().toString());
  }

  private static boolean onPath(String tool) {
    try {
      Process p = new ProcessBuilder(tool, "version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
