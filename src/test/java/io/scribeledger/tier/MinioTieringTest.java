package io.scribeledger.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.scribeledger.support.Api;
import io.scribeledger.support.Await;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The cold tier against MinIO, a second S3 implementation (it checks signatures and checksums its
 * own way). Runs where a Docker engine is; skipped, and reported so, where there is none.
 */
@ExtendWith(VertxExtension.class)
@Testcontainers(disabledWithoutDocker = true)
class MinioTieringTest {

  static final String USER = "scribe-minio";
  static final String PASSWORD = "scribe-minio-secret";

  @Container
  static final GenericContainer<?> MINIO =
      new GenericContainer<>("minio/minio:RELEASE.2025-04-22T22-12-26Z")
          .withEnv("MINIO_ROOT_USER", USER)
          .withEnv("MINIO_ROOT_PASSWORD", PASSWORD)
          .withCommand("server", "/data")
          .withExposedPorts(9000)
          .waitingFor(Wait.forHttp("/minio/health/ready").forPort(9000));

  @Test
  void segmentsAreArchivedEvictedAndReadBackFromMinio(Vertx vertx, @TempDir Path dir)
      throws Exception {
    URI endpoint = URI.create("http://" + MINIO.getHost() + ":" + MINIO.getMappedPort(9000));
    try (S3AsyncClient client =
        S3Archive.client(
            Optional.of(endpoint),
            "us-east-1",
            true,
            StaticCredentialsProvider.create(AwsBasicCredentials.create(USER, PASSWORD)),
            4)) {
      client.createBucket(b -> b.bucket("scribe-minio")).join();
    }
    Path secret = Files.writeString(dir.resolve("secret"), PASSWORD);
    JsonObject overrides =
        new JsonObject()
            .put("storage", new JsonObject().put("segmentSizeBytes", 4096))
            .put(
                "tiering",
                new JsonObject()
                    .put("enabled", true)
                    .put("endpoint", endpoint.toString())
                    .put("bucket", "scribe-minio")
                    .put("prefix", "m")
                    .put("pathStyle", true)
                    .put("accessKeyId", USER)
                    .put("secretAccessKeyFile", secret.toString())
                    .put("intervalMs", 100)
                    .put("retainSegments", 1)
                    .put("cacheBytes", 0));
    try (TestNode node = TestNode.start(TestNode.config("n1", dir.resolve("n1"), overrides));
        Api api = new Api(vertx, node.httpPort(), 8)) {
      for (int i = 0; i < 60; i++) {
        assertEquals(201, api.put("/kv/k" + i, TieringTest.value(i)).statusCode());
      }
      Await.until(
          "segments are archived and evicted",
          30_000,
          () -> {
            JsonArray segs = TieringTest.segments(api);
            return segs.size() >= 4
                && TieringTest.count(segs, s -> !s.getBoolean("onThisNode")) >= 3;
          });
      for (int i = 0; i < 60; i += 11) {
        assertEquals(TieringTest.value(i), api.get("/kv/k" + i).bodyAsString());
      }
    }
  }
}
