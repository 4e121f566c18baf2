package io.scribeledger.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.auth.TokenStore;
import io.scribeledger.cli.CaTrust;
import io.scribeledger.support.HttpProbe;
import io.scribeledger.support.TestCerts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.MountableFile;

/**
 * The Dockerfile's image runs a node with its defaults — HTTPS, tokens and Raft mTLS from files
 * mounted where conf/container.json expects its Secrets: it answers, keeps a write, and stops
 * cleanly on SIGTERM (java is PID 1). Needs a Docker engine; skipped (and reported so) without one.
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerImageIT {

  @Test
  void theImageRunsANodeThatTakesWritesAndStopsCleanlyOnSigterm(@TempDir Path dir)
      throws Exception {
    ImageFromDockerfile image =
        new ImageFromDockerfile("scribe-ledger-it", true).withDockerfile(Path.of("Dockerfile"));
    TestCerts certs = TestCerts.make(dir.resolve("certs"), "n1");
    String token = TokenStore.newToken();
    Path tokens = dir.resolve("tokens.json");
    Files.writeString(
        tokens,
        "{\"tokens\":[{\"name\":\"ops\",\"role\":\"admin\",\"sha256\":\""
            + TokenStore.digestHex(token)
            + "\"}]}");
    try (GenericContainer<?> node =
        new GenericContainer<>(image)
            .withExposedPorts(8080)
            .withCopyFileToContainer(
                MountableFile.forHostPath(certs.cert("n1"), 0644), "/etc/scribe/tls/tls.crt")
            .withCopyFileToContainer(
                MountableFile.forHostPath(certs.key("n1"), 0644), "/etc/scribe/tls/tls.key")
            .withCopyFileToContainer(
                MountableFile.forHostPath(certs.ca(), 0644), "/etc/scribe/tls/ca.crt")
            .withCopyFileToContainer(
                MountableFile.forHostPath(tokens, 0644), "/etc/scribe/tokens/tokens.json")) {
      node.start();
      String base = "https://localhost:" + node.getMappedPort(8080);
      SSLContext ssl = CaTrust.sslContext(certs.ca());
      new HttpProbe(base, ssl).awaitStatus("/health/ready", 200, 120_000);
      HttpClient http = HttpClient.newBuilder().sslContext(ssl).build();
      HttpResponse<String> put =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/kv/in-a-container"))
                  .header("Authorization", "Bearer " + token)
                  .timeout(Duration.ofSeconds(10))
                  .PUT(HttpRequest.BodyPublishers.ofString("kept"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(201, put.statusCode(), put.body());
      HttpResponse<String> get =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/kv/in-a-container"))
                  .header("Authorization", "Bearer " + token)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals("kept", get.body());

      node.getDockerClient().stopContainerCmd(node.getContainerId()).withTimeout(30).exec();
      assertTrue(
          node.getLogs().contains("Raft member n1 stopped"),
          "SIGTERM reached the JVM: " + node.getLogs());
    }
  }
}
