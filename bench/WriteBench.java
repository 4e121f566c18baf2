import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Acknowledged-write benchmark for a running node: N client threads, each sending PUTs of unique
 * keys with 128-byte values one after another. Prints writes/s and latency percentiles.
 *
 * <p>Run with the JDK alone (no build): {@code java bench/WriteBench.java http://127.0.0.1:8080
 * 2000 1} (base URL, writes per client, clients).
 */
public class WriteBench {
  public static void main(String[] args) throws Exception {
    String base = args.length > 0 ? args[0] : "http://127.0.0.1:8080";
    int perClient = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    int clients = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    byte[] value = new byte[128];
    new Random(1).nextBytes(value);
    String run = Long.toString(System.currentTimeMillis(), 36);
    // Warm-up: JIT on both sides, connections open.
    for (int i = 0; i < 200; i++) {
      put(http, base + "/kv/warmup-" + run + "-" + i, value);
    }
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<long[]>> results = new ArrayList<>();
    long start = System.nanoTime();
    for (int c = 0; c < clients; c++) {
      int client = c;
      results.add(
          pool.submit(
              () -> {
                long[] lat = new long[perClient];
                for (int i = 0; i < perClient; i++) {
                  long t0 = System.nanoTime();
                  put(http, base + "/kv/bench-" + run + "-" + client + "-" + i, value);
                  lat[i] = System.nanoTime() - t0;
                }
                return lat;
              }));
    }
    long[] all = new long[perClient * clients];
    int n = 0;
    for (Future<long[]> f : results) {
      long[] lat = f.get();
      System.arraycopy(lat, 0, all, n, lat.length);
      n += lat.length;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    Arrays.sort(all);
    System.out.printf("clients=%d writes=%d value=128B%n", clients, all.length);
    System.out.printf("writes/s=%.0f%n", all.length / seconds);
    System.out.printf(
        "latency ms: p50=%.2f p90=%.2f p99=%.2f max=%.2f%n",
        pct(all, 50), pct(all, 90), pct(all, 99), all[all.length - 1] / 1e6);
  }

  static double pct(long[] sorted, double p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1)] / 1e6;
  }

  static void put(HttpClient http, String url, byte[] value) throws Exception {
    HttpResponse<Void> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(value))
                .build(),
            HttpResponse.BodyHandlers.discarding());
    if (r.statusCode() != 201) {
      throw new IllegalStateException("PUT " + url + " -> " + r.statusCode());
    }
  }
}
