package io.scribeledger.tier;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.ledger.ColdTier;
import io.scribeledger.ledger.SegmentArchived;
import io.scribeledger.ledger.SegmentInfo;
import io.scribeledger.merkle.Hashes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.FileRequestBodyConfiguration;
import software.amazon.awssdk.core.FileTransformerConfiguration;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * The archive in an S3-compatible bucket: content-derived keys for segment objects, uploads whose
 * size and SHA-256 are confirmed before they count, checked downloads, and the small manifest and
 * tree-head objects that let a ledger be rebuilt from the bucket alone. Every call returns the
 * SDK's future; {@link #download} alone blocks (a read on a worker waits for it).
 */
public final class S3Archive implements ColdTier, AutoCloseable {

  /** User metadata carrying the object's SHA-256 (hex), checked after every upload. */
  static final String SHA256_META = "sha256";

  private final S3AsyncClient s3;
  private final String bucket;
  private final String prefix;

  public S3Archive(S3AsyncClient s3, String bucket, String prefix) {
    this.s3 = s3;
    this.bucket = bucket;
    this.prefix = prefix;
  }

  /**
   * Builds the client the configuration describes. Blocking (reads the secret file): call it on a
   * worker. Checksums are sent and checked only when S3 requires them (some S3-compatible stores
   * refuse the newer headers); our own SHA-256 and Merkle roots are the integrity check.
   */
  public static S3Archive open(NodeConfig.Tiering config) throws IOException {
    return new S3Archive(
        client(
            config.endpoint(),
            config.region(),
            config.pathStyle(),
            credentials(config.credentials()),
            config.uploadConcurrency() * 2 + 8),
        config.bucket(),
        config.prefix());
  }

  /** The credentials the configuration names, or the SDK's default chain. Blocking. */
  public static AwsCredentialsProvider credentials(Optional<NodeConfig.Credentials> explicit)
      throws IOException {
    if (explicit.isEmpty()) {
      return DefaultCredentialsProvider.builder().build();
    }
    String secret = Files.readString(explicit.get().secretAccessKeyFile()).trim();
    return StaticCredentialsProvider.create(
        AwsBasicCredentials.create(explicit.get().accessKeyId(), secret));
  }

  /** An async S3 client on the SDK's Netty HTTP client. */
  public static S3AsyncClient client(
      Optional<java.net.URI> endpoint,
      String region,
      boolean pathStyle,
      AwsCredentialsProvider credentials,
      int maxConnections) {
    var builder =
        S3AsyncClient.builder()
            .region(Region.of(region))
            .forcePathStyle(pathStyle)
            .credentialsProvider(credentials)
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .overrideConfiguration(
                ClientOverrideConfiguration.builder()
                    .apiCallAttemptTimeout(Duration.ofMinutes(2))
                    .apiCallTimeout(Duration.ofMinutes(10))
                    .build())
            .httpClientBuilder(
                NettyNioAsyncHttpClient.builder()
                    .maxConcurrency(maxConnections)
                    .connectionTimeout(Duration.ofSeconds(5)));
    endpoint.ifPresent(builder::endpointOverride);
    return builder.build();
  }

  public String bucket() {
    return bucket;
  }

  public String prefix() {
    return prefix;
  }

  /**
   * The object key of a segment: its id, range and Merkle root, so that whoever uploads that
   * segment writes the same key.
   */
  public String segmentKey(SegmentInfo segment, String codec) {
    return String.format(
        "%s/segments/%020d-%d-%d-%s.%s",
        prefix,
        segment.id(),
        segment.firstIndex(),
        segment.lastIndex(),
        Hashes.hex(segment.merkleRoot()),
        "gzip".equals(codec) ? "seg.gz" : "seg");
  }

  /** The key of segment {@code id}'s manifest object. */
  public String manifestKey(long id) {
    return String.format("%s/manifest/%020d.json", prefix, id);
  }

  /** The key of the newest signed tree head the leader published. */
  public String latestHeadKey() {
    return prefix + "/heads/latest.json";
  }

  /** The object at {@code key}, if there is one. */
  public CompletableFuture<Optional<HeadObjectResponse>> head(String key) {
    return s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(key).build())
        .thenApply(Optional::of)
        .exceptionallyCompose(
            e ->
                notFound(e)
                    ? CompletableFuture.completedFuture(Optional.empty())
                    : CompletableFuture.failedFuture(e));
  }

  private static boolean notFound(Throwable e) {
    Throwable cause = e instanceof CompletionException ? e.getCause() : e;
    return cause instanceof S3Exception s3e && s3e.statusCode() == 404;
  }

  /** Whether the object at {@code key} is {@code prepared}'s: same size and recorded SHA-256. */
  static boolean matches(Optional<HeadObjectResponse> head, SegmentCodec.Prepared prepared) {
    return head.isPresent()
        && head.get().contentLength() != null
        && head.get().contentLength() == prepared.size()
        && Hashes.hex(prepared.sha256()).equals(head.get().metadata().get(SHA256_META));
  }

  /**
   * Uploads {@code prepared} to {@code key} (in parts when it is larger than one part; a failed
   * multipart upload is aborted), then confirms the stored object's size and SHA-256.
   */
  public CompletableFuture<Void> upload(String key, SegmentCodec.Prepared prepared) {
    Map<String, String> meta = Map.of(SHA256_META, Hashes.hex(prepared.sha256()));
    CompletableFuture<?> sent =
        prepared.multipart()
            ? multipart(key, prepared, meta)
            : s3.putObject(
                PutObjectRequest.builder()
                    .bucket(bucket)
                    .key(key)
                    .contentLength(prepared.size())
                    .contentMD5(prepared.md5Base64())
                    .metadata(meta)
                    .build(),
                AsyncRequestBody.fromFile(prepared.file()));
    return sent.thenCompose(done -> head(key))
        .thenCompose(
            stored ->
                matches(stored, prepared)
                    ? CompletableFuture.completedFuture(null)
                    : CompletableFuture.failedFuture(
                        new IOException(
                            "the stored object "
                                + key
                                + " does not match what was uploaded (size or SHA-256)")));
  }

  private CompletableFuture<Void> multipart(
      String key, SegmentCodec.Prepared prepared, Map<String, String> meta) {
    return s3.createMultipartUpload(
            CreateMultipartUploadRequest.builder().bucket(bucket).key(key).metadata(meta).build())
        .thenCompose(
            created -> {
              String uploadId = created.uploadId();
              List<CompletedPart> done = new ArrayList<>();
              CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
              for (int i = 0; i < prepared.partMd5s().size(); i++) {
                int number = i + 1;
                long offset = i * prepared.partBytes();
                long length = Math.min(prepared.partBytes(), prepared.size() - offset);
                String md5 = prepared.partMd5s().get(i);
                chain =
                    chain.thenCompose(
                        v ->
                            s3.uploadPart(
                                    UploadPartRequest.builder()
                                        .bucket(bucket)
                                        .key(key)
                                        .uploadId(uploadId)
                                        .partNumber(number)
                                        .contentLength(length)
                                        .contentMD5(md5)
                                        .build(),
                                    AsyncRequestBody.fromFile(
                                        FileRequestBodyConfiguration.builder()
                                            .path(prepared.file())
                                            .position(offset)
                                            .numBytesToRead(length)
                                            .build()))
                                .thenAccept(
                                    r ->
                                        done.add(
                                            CompletedPart.builder()
                                                .partNumber(number)
                                                .eTag(r.eTag())
                                                .build())));
              }
              return chain
                  .thenCompose(
                      v ->
                          s3.completeMultipartUpload(
                              b ->
                                  b.bucket(bucket)
                                      .key(key)
                                      .uploadId(uploadId)
                                      .multipartUpload(
                                          CompletedMultipartUpload.builder().parts(done).build())))
                  .<Void>thenApply(r -> null)
                  .exceptionallyCompose(
                      e ->
                          abort(key, uploadId)
                              .handle((r, ignored) -> null)
                              .thenCompose(x -> CompletableFuture.failedFuture(e)));
            });
  }

  private CompletableFuture<Void> abort(String key, String uploadId) {
    return s3.abortMultipartUpload(
            AbortMultipartUploadRequest.builder()
                .bucket(bucket)
                .key(key)
                .uploadId(uploadId)
                .build())
        .thenApply(r -> null);
  }

  /**
   * Aborts multipart uploads under this archive's prefix begun before {@code before} (left by a
   * leader that died mid-upload); returns how many.
   */
  public CompletableFuture<Integer> abortIncomplete(Instant before) {
    return s3.listMultipartUploads(
            ListMultipartUploadsRequest.builder().bucket(bucket).prefix(prefix + "/").build())
        .thenCompose(
            list -> {
              List<CompletableFuture<Void>> aborts = new ArrayList<>();
              for (MultipartUpload u : list.uploads()) {
                if (u.initiated() != null && u.initiated().isBefore(before)) {
                  aborts.add(abort(u.key(), u.uploadId()));
                }
              }
              return CompletableFuture.allOf(aborts.toArray(CompletableFuture[]::new))
                  .thenApply(v -> aborts.size());
            });
  }

  /** Writes a small object (a manifest or a tree head). */
  public CompletableFuture<Void> putSmall(String key, byte[] body) {
    return s3.putObject(
            PutObjectRequest.builder()
                .bucket(bucket)
                .key(key)
                .contentLength((long) body.length)
                .contentType("application/json")
                .build(),
            AsyncRequestBody.fromBytes(body))
        .thenApply(r -> null);
  }

  /** Reads a small object whole, or empty when there is none. */
  public CompletableFuture<Optional<byte[]>> getSmall(String key) {
    return s3.getObject(
            GetObjectRequest.builder().bucket(bucket).key(key).build(),
            AsyncResponseTransformer.toBytes())
        .thenApply(r -> Optional.of(r.asByteArray()))
        .exceptionallyCompose(
            e ->
                notFound(e)
                    ? CompletableFuture.completedFuture(Optional.empty())
                    : CompletableFuture.failedFuture(e));
  }

  /**
   * Every key under {@code under} (relative to the prefix), in key order: for the recovery and
   * audit tools only; a node never lists the bucket to learn its state.
   */
  public CompletableFuture<List<String>> list(String under) {
    List<String> keys = new ArrayList<>();
    return listFrom(prefix + "/" + under, null, keys).thenApply(v -> keys);
  }

  private CompletableFuture<Void> listFrom(String from, String token, List<String> keys) {
    return s3.listObjectsV2(
            ListObjectsV2Request.builder()
                .bucket(bucket)
                .prefix(from)
                .continuationToken(token)
                .build())
        .thenCompose(
            page -> {
              page.contents().stream().map(S3Object::key).forEach(keys::add);
              return Boolean.TRUE.equals(page.isTruncated())
                  ? listFrom(from, page.nextContinuationToken(), keys)
                  : CompletableFuture.completedFuture(null);
            });
  }

  /**
   * Downloads the object of {@code record} (never more than its recorded size: a larger object is
   * cut there and then fails its SHA-256), checks size and SHA-256 against the record, and writes
   * it decompressed, at most {@code segmentBytes}, to {@code target}. Blocking: called by reads on
   * workers and by the recovery tools.
   */
  @Override
  public void download(SegmentArchived record, long segmentBytes, Path target) throws IOException {
    Path object = target.resolveSibling(target.getFileName() + ".object");
    try {
      fetch(record.objectKey(), object, record.objectSize()).join();
      long size = Files.size(object);
      if (size != record.objectSize()) {
        throw new IOException(
            "object "
                + record.objectKey()
                + " is "
                + size
                + " bytes, the manifest says "
                + record.objectSize());
      }
      if (!MessageDigest.isEqual(Hashes.sha256(object), record.objectSha256())) {
        throw new IOException(
            "object " + record.objectKey() + " does not match its SHA-256 in the manifest");
      }
      SegmentCodec.restore(object, record.codec(), target, segmentBytes);
    } catch (CompletionException e) {
      throw new IOException(
          "cannot fetch "
              + record.objectKey()
              + (notFound(e) ? ": no such object" : ": " + e.getCause().getMessage()),
          e.getCause());
    } finally {
      Files.deleteIfExists(object);
    }
  }

  /**
   * Downloads the first {@code maxBytes} of the object at {@code key} into {@code file} (replaced
   * if it exists).
   */
  public CompletableFuture<Void> fetch(String key, Path file, long maxBytes) {
    return s3.getObject(
            GetObjectRequest.builder()
                .bucket(bucket)
                .key(key)
                .range("bytes=0-" + Math.max(0, maxBytes - 1))
                .build(),
            AsyncResponseTransformer.toFile(
                file, FileTransformerConfiguration.defaultCreateOrReplaceExisting()))
        .thenApply(r -> null);
  }

  @Override
  public void close() {
    s3.close();
  }
}
