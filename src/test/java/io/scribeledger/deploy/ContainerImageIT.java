package io.scribeledger.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.HttpProbe;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * The Dockerfile's image runs a node with its defaults: it answers, keeps a write, and stops
 * cleanly on SIGTERM (java is PID 1). Needs a Docker engine; skipped (and reported so) without one.
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerImageIT {

  @Test
  void theImageRunsANodeThatTakesWritesAndStopsCleanlyOnSigterm() throws Exception {
    ImageFromDockerfile image =
        new ImageFromDockerfile("scribe-ledger-it", true).withDockerfile(Path.of("Dockerfile"));
    try (GenericContainer<?> node = new GenericContainer<>(image).withExposedPorts(8080)) {
      node.start();
      String base = "http://" + node.getHost() + ":" + node.getMappedPort(8080);
      new HttpProbe(base).awaitStatus("/health/ready", 200, 120_000);
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> put =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/kv/in-a-container"))
                  .timeout(Duration.ofSeconds(10))
                  .PUT(HttpRequest.BodyPublishers.ofString("kept"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(201, put.statusCode(), put.body());
      HttpResponse<String> get =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/kv/in-a-container")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals("kept", get.body());

      node.getDockerClient().stopContainerCmd(node.getContainerId()).withTimeout(30).exec();
      assertTrue(
          node.getLogs().contains("Raft member n1 stopped"),
          "SIGTERM reached the JVM: " + node.getLogs());
    }
  }
}
