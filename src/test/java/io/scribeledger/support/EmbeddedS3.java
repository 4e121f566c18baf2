package io.scribeledger.support;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * A real S3 server in the test JVM: S3Proxy over a filesystem blob store in a temporary directory,
 * with AWS signature checking on. It can be stopped and started again on the same port (an outage).
 */
public final class EmbeddedS3 implements AutoCloseable {

  public static final String BUCKET = "scribe-archive";
  public static final String KEY_ID = "scribe-test-key";
  public static final String SECRET = "scribe-test-secret-0123456789";

  private final Path blobs;
  private final int port;
  private S3Proxy proxy;

  private EmbeddedS3(Path blobs, int port) {
    this.blobs = blobs;
    this.port = port;
  }

  /** Starts a server keeping its objects under {@code dir}, with the test bucket created. */
  public static EmbeddedS3 start(Path dir) throws Exception {
    EmbeddedS3 s3 = new EmbeddedS3(Files.createDirectories(dir.resolve("blobs")), Ports.free());
    s3.startProxy();
    s3.blobStore().createContainer(BUCKET);
    return s3;
  }

  private BlobStore blobStore() {
    Properties props = new Properties();
    props.setProperty("jclouds.filesystem.basedir", blobs.toString());
    props.setProperty("jclouds.identity", KEY_ID);
    props.setProperty("jclouds.credential", SECRET);
    return BlobStores.create("filesystem-nio2", props);
  }

  private void startProxy() throws Exception {
    proxy =
        S3Proxy.builder()
            .blobStore(blobStore())
            .endpoint(URI.create("http://127.0.0.1:" + port))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, KEY_ID, SECRET)
            .build();
    proxy.start();
    long deadline = System.currentTimeMillis() + 30_000;
    while (!"STARTED".equals(proxy.getState())) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
      }
      Thread.onSpinWait();
    }
  }

  /** Stops answering (connections refused) until {@link #resume}. */
  public void stop() throws Exception {
    proxy.stop();
  }

  /** Answers again on the same port, with the same objects. */
  public void resume() throws Exception {
    startProxy();
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  /** Where the blob store keeps the bucket's objects (one file per key). */
  public Path bucketDir() {
    return blobs.resolve(BUCKET);
  }

  /** A client for the tests' own look at the bucket. */
  public S3AsyncClient client() {
    return io.scribeledger.tier.S3Archive.client(
        Optional.of(endpoint()),
        "us-east-1",
        true,
        StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY_ID, SECRET)),
        8);
  }

  /**
   * The {@code tiering} config section for this server under {@code prefix}, the secret written to
   * a file in {@code dir}.
   */
  public JsonObject tiering(Path dir, String prefix) throws IOException {
    Path secret = dir.resolve("s3-secret");
    if (!Files.exists(secret)) {
      Files.writeString(secret, SECRET + "\n");
    }
    return new JsonObject()
        .put("enabled", true)
        .put("endpoint", endpoint().toString())
        .put("bucket", BUCKET)
        .put("prefix", prefix)
        .put("pathStyle", true)
        .put("accessKeyId", KEY_ID)
        .put("secretAccessKeyFile", secret.toString())
        .put("intervalMs", 100)
        .put("retainSegments", 1)
        .put("cacheBytes", 0)
        .put("partBytes", 5 * 1024 * 1024);
  }

  @Override
  public void close() {
    if (proxy != null && !"STOPPED".equals(proxy.getState())) {
      try {
        proxy.stop();
      } catch (Exception e) {
        throw new IllegalStateException("S3Proxy did not stop", e);
      }
    }
  }
}
