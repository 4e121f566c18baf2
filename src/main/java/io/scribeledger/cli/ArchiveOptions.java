package io.scribeledger.cli;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.tier.S3Archive;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Where an archive is and how to reach it: {@code s3://bucket/prefix} plus the S3 endpoint, region
 * and credentials (as a node's {@code tiering} section names them; by default the SDK's chain).
 */
final class ArchiveOptions {

  @Option(
      names = "--endpoint",
      description = "S3 endpoint URL for an S3-compatible store (default: AWS for the region)")
  URI endpoint;

  @Option(names = "--region", defaultValue = "us-east-1", description = "S3 region")
  String region;

  @Option(
      names = "--path-style",
      description = "path-style bucket addressing (most non-AWS stores)")
  boolean pathStyle;

  @Option(names = "--access-key-id", description = "S3 access key id (with --secret-key-file)")
  String accessKeyId;

  @Option(
      names = "--secret-key-file",
      description = "file holding the S3 secret access key (never on the command line)")
  Path secretKeyFile;

  @Option(
      names = "--max-segment-bytes",
      defaultValue = "1073741824",
      description =
          "refuse a segment the archive says is larger (default ${DEFAULT-VALUE}): an untrusted"
              + " manifest must not make the tool download or inflate without bound")
  long maxSegmentBytes;

  /** Opens {@code location} ({@code s3://bucket/prefix}); blocking. */
  S3Archive open(String location) throws IOException {
    URI uri;
    try {
      uri = new URI(location);
    } catch (java.net.URISyntaxException e) {
      throw new IOException("not an s3://bucket/prefix location: " + location);
    }
    String prefix = uri.getPath() == null ? "" : uri.getPath().replaceAll("^/+|/+$", "");
    if (!"s3".equals(uri.getScheme()) || uri.getHost() == null || prefix.isEmpty()) {
      throw new IOException("not an s3://bucket/prefix location: " + location);
    }
    if ((accessKeyId == null) != (secretKeyFile == null)) {
      throw new IOException("--access-key-id and --secret-key-file go together");
    }
    Optional<NodeConfig.Credentials> credentials =
        accessKeyId == null
            ? Optional.empty()
            : Optional.of(new NodeConfig.Credentials(accessKeyId, secretKeyFile));
    return new S3Archive(
        S3Archive.client(
            Optional.ofNullable(endpoint),
            region,
            pathStyle,
            S3Archive.credentials(credentials),
            8),
        uri.getHost(),
        prefix);
  }
}
