import io.scribeledger.cli.ScribeCli;
import io.scribeledger.support.EmbeddedS3;
import io.scribeledger.support.TestNode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the S3 cold tier costs and how fast it moves, against the embedded S3 server (S3Proxy,
 * filesystem blob store) on this machine, with one in-process node: writes/s with tiering off and
 * on; seal-to-archived time and upload MB/s of 64 MiB segments; the first read of an evicted 64 MiB
 * segment (download, SHA-256, gunzip, records and Merkle root checked) against a read of a local
 * one; and scribe restore's time per GB. Run by bench/tier.sh (it builds the classpath).
 *
 * <p>Args: [LEDGER_MIB (default 256)] [WRITE_SECONDS (default 20)].
 */
public class TierBench {

  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public static void main(String[] args) throws Exception {
    int ledgerMib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    Path work = Files.createTempDirectory("tierbench");
    try (EmbeddedS3 s3 = EmbeddedS3.start(work.resolve("s3"))) {
      double off = writes(work, s3, false, seconds);
      double on = writes(work, s3, true, seconds);
      System.out.printf(
          "writes/s (32 clients, 4 KiB values, 4 MiB segments): tiering off %.0f, on %.0f (%+.1f %%)%n",
          off, on, (on - off) * 100 / off);
      archiveAndRestore(work, s3, ledgerMib);
    } finally {
      try (var walk = Files.walk(work)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static JsonObject config(Path work, EmbeddedS3 s3, String name, boolean tiering, long segment)
      throws Exception {
    JsonObject t = s3.tiering(work, name).put("enabled", tiering);
    return TestNode.config(
        "n1",
        work.resolve(name),
        new JsonObject()
            .put("storage", new JsonObject().put("segmentSizeBytes", segment))
            .put("tiering", t));
  }

  static double writes(Path work, EmbeddedS3 s3, boolean tiering, int seconds) throws Exception {
    JsonObject config = config(work, s3, tiering ? "w-on" : "w-off", tiering, 4L << 20);
    try (TestNode node = TestNode.start(config)) {
      String base = node.baseUrl();
      byte[] value = text(4096, new Random(1));
      // Warm-up: JIT, connections, a few seals and uploads.
      load(base, value, 32, 10);
      long done = load(base, value, 32, seconds);
      return done / (double) seconds;
    }
  }

  static long load(String base, byte[] value, int clients, int seconds) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    AtomicLong ok = new AtomicLong();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    String run = Long.toString(System.nanoTime(), 36);
    List<Future<?>> all = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      all.add(
          pool.submit(
              () -> {
                for (int i = 0; System.nanoTime() < end; i++) {
                  if (put(base + "/kv/" + run + "-" + client + "-" + i, value) == 201) {
                    ok.incrementAndGet();
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : all) {
      f.get();
    }
    pool.shutdown();
    return ok.get();
  }

  static int put(String url, byte[] value) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create(url))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(value))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Log-like text: JSON around base64 of random bytes (compresses about as real events do). */
  static byte[] text(int size, Random random) {
    byte[] raw = new byte[size * 3 / 8];
    random.nextBytes(raw);
    String body = "{\"event\":\"audit\",\"payload\":\"" + Base64.getEncoder().encodeToString(raw);
    body = body + "x".repeat(Math.max(0, size - body.length() - 2)) + "\"}";
    return body.substring(0, size).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  static JsonArray segments(String base) throws Exception {
    return new JsonObject(get(base + "/segments").body()).getJsonArray("segments");
  }

  static void archiveAndRestore(Path work, EmbeddedS3 s3, int ledgerMib) throws Exception {
    JsonObject config = config(work, s3, "arch", true, 64L << 20);
    config.getJsonObject("tiering").put("retainSegments", 1).put("cacheBytes", 0);
    config.getJsonObject("limits", new JsonObject()).put("maxValueBytes", 1 << 20);
    int value = 64 * 1024;
    int count = ledgerMib * 16;
    String publicKey;
    try (TestNode node = TestNode.start(config)) {
      String base = node.baseUrl();
      Random random = new Random(2);
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<Integer>> puts = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String url = base + "/kv/e" + i;
        byte[] v = text(value, random);
        puts.add(pool.submit(() -> put(url, v)));
      }
      for (Future<Integer> p : puts) {
        if (p.get() != 201) {
          throw new IllegalStateException("a write failed: " + p.get());
        }
      }
      pool.shutdown();
      // Seal-to-archived, from the seal time in the manifest to the poll that sees the record.
      List<Long> sealToArchived = new ArrayList<>();
      List<Long> seen = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 600_000;
      while (System.currentTimeMillis() < deadline) {
        JsonArray segs = segments(base);
        long now = System.currentTimeMillis();
        for (int i = seen.size(); i < segs.size(); i++) {
          JsonObject s = segs.getJsonObject(i);
          if (!"archived".equals(s.getString("tier"))) {
            break;
          }
          seen.add(s.getLong("id"));
          sealToArchived.add(now - s.getLong("createdAt"));
        }
        if (!segs.isEmpty() && seen.size() == segs.size() && seen.size() >= ledgerMib / 64 - 1) {
          break;
        }
        Thread.sleep(20);
      }
      JsonArray segs = segments(base);
      long bytes = 0;
      long objectBytes = 0;
      for (int i = 0; i < segs.size(); i++) {
        bytes += segs.getJsonObject(i).getLong("sizeBytes");
        objectBytes += segs.getJsonObject(i).getJsonObject("object").getLong("size");
      }
      long median = sealToArchived.stream().sorted().toList().get(sealToArchived.size() / 2);
      System.out.printf(
          "%d segments of ~64 MiB archived (gzip %.0f %% of the segment bytes): seal-to-archived median %d ms, max %d ms; %.0f MB/s of segment bytes at the median%n",
          segs.size(),
          objectBytes * 100.0 / bytes,
          median,
          sealToArchived.stream().mapToLong(Long::longValue).max().getAsLong(),
          (bytes / (double) segs.size()) / 1e6 / (median / 1000.0));
      // The first segment is evicted (retainSegments 1): its first read fetches and checks it.
      long waitUntil = System.currentTimeMillis() + 60_000;
      while (segments(base).getJsonObject(0).getBoolean("onThisNode")
          && System.currentTimeMillis() < waitUntil) {
        Thread.sleep(20);
      }
      long t0 = System.nanoTime();
      HttpResponse<String> cold = get(base + "/kv/e0?consistency=stale");
      long coldMs = (System.nanoTime() - t0) / 1_000_000;
      t0 = System.nanoTime();
      HttpResponse<String> warm = get(base + "/kv/e1?consistency=stale");
      long warmUs = (System.nanoTime() - t0) / 1_000;
      System.out.printf(
          "read of an evicted 64 MiB segment: %d ms (fetch, SHA-256, gunzip, records and Merkle root checked; status %d); the next read from the recalled file %d us (status %d)%n",
          coldMs, cold.statusCode(), warmUs, warm.statusCode());
      publicKey = new JsonObject(get(base + "/ledger/head").body()).getString("publicKey");
    }
    Path restored = work.resolve("restored");
    long t0 = System.nanoTime();
    int code =
        ScribeCli.run(
            "restore",
            "--from",
            "s3://" + EmbeddedS3.BUCKET + "/arch",
            "--data-dir",
            restored.toString(),
            "--endpoint",
            s3.endpoint().toString(),
            "--path-style",
            "--access-key-id",
            EmbeddedS3.KEY_ID,
            "--secret-key-file",
            work.resolve("s3-secret").toString(),
            "--public-key",
            publicKey);
    double secs = (System.nanoTime() - t0) / 1e9;
    long restoredBytes;
    try (var walk = Files.walk(restored.resolve("segments"))) {
      restoredBytes = walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    System.out.printf(
        "scribe restore (exit %d): %.0f MB of segments in %.1f s = %.0f s per GB%n",
        code, restoredBytes / 1e6, secs, secs / (restoredBytes / 1e9));
  }
}
