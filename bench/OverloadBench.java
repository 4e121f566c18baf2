import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Overload benchmark for a running node (start it with a small heap, e.g. -Xmx512m): UPLOADERS
 * clients send VALUE_MIB-sized PUTs back to back while SLOW clients hold connections open with a
 * declared 1 MiB body that they trickle a byte a second. Prints every status seen, the node's peak
 * heap, and then reads every acknowledged write back and checks its SHA-256. Then READERS clients
 * GET the acknowledged values over and over for SECONDS, hashing each body as it streams in, while
 * the node's heap is sampled: a large value must be sent from disk, not copied into the heap per
 * request. Exit 1 if the node died, answered anything but 2xx/429/503/507, lost an acknowledged
 * write, or sent a value with other bytes.
 *
 * <p>{@code java bench/OverloadBench.java http://127.0.0.1:8080 [SECONDS=30] [UPLOADERS=64]
 * [VALUE_MIB=16] [SLOW=1000] [READERS=64]}
 */
public class OverloadBench {
  public static void main(String[] args) throws Exception {
    String base = args.length > 0 ? args[0] : "http://127.0.0.1:8080";
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    int uploaders = args.length > 2 ? Integer.parseInt(args[2]) : 64;
    int valueMib = args.length > 3 ? Integer.parseInt(args[3]) : 16;
    int slow = args.length > 4 ? Integer.parseInt(args[4]) : 1000;
    int readers = args.length > 5 ? Integer.parseInt(args[5]) : 64;
    URI uri = URI.create(base);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    String run = Long.toString(System.currentTimeMillis(), 36);

    AtomicBoolean stop = new AtomicBoolean();
    Map<String, byte[]> acked = new ConcurrentHashMap<>();
    Map<String, Integer> statuses = new ConcurrentHashMap<>();
    List<Socket> slowSockets = new ArrayList<>();
    for (int i = 0; i < slow; i++) {
      try {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5000);
        s.getOutputStream()
            .write(
                ("PUT /kv/slow-"
                        + run
                        + "-"
                        + i
                        + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
        slowSockets.add(s);
      } catch (IOException e) {
        statuses.merge("slow connect failed", 1, Integer::sum);
      }
    }
    Thread trickle =
        new Thread(
            () -> {
              while (!stop.get()) {
                for (Socket s : slowSockets) {
                  try {
                    OutputStream out = s.getOutputStream();
                    out.write('x');
                    out.flush();
                  } catch (IOException e) {
                    // closed by the node (idle timeout or overload): fine
                  }
                }
                try {
                  TimeUnit.SECONDS.sleep(1);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    trickle.start();

    ExecutorService pool = Executors.newFixedThreadPool(uploaders);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    for (int u = 0; u < uploaders; u++) {
      int client = u;
      pool.submit(
          () -> {
            Random random = new Random(client);
            byte[] value = new byte[valueMib << 20];
            for (int i = 0; System.nanoTime() < deadline; i++) {
              random.nextBytes(value);
              String key = "big-" + run + "-" + client + "-" + i;
              String status;
              try {
                HttpResponse<Void> r =
                    http.send(
                        HttpRequest.newBuilder(URI.create(base + "/kv/" + key))
                            .timeout(Duration.ofSeconds(60))
                            .PUT(HttpRequest.BodyPublishers.ofByteArray(value))
                            .build(),
                        HttpResponse.BodyHandlers.discarding());
                status = Integer.toString(r.statusCode());
                if (r.statusCode() == 201) {
                  acked.put(key, MessageDigest.getInstance("SHA-256").digest(value));
                }
              } catch (Exception e) {
                status = "connection: " + e.getClass().getSimpleName();
              }
              statuses.merge(status, 1, Integer::sum);
            }
            return null;
          });
    }
    long peakHeap = 0;
    while (System.nanoTime() < deadline) {
      peakHeap = Math.max(peakHeap, heapUsed(http, base));
      TimeUnit.MILLISECONDS.sleep(500);
    }
    pool.shutdown();
    pool.awaitTermination(120, TimeUnit.SECONDS);
    stop.set(true);
    trickle.join();
    for (Socket s : slowSockets) {
      s.close();
    }

    boolean alive = get(http, base + "/health/live") == 200;
    int verified = 0;
    List<String> lost = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : acked.entrySet()) {
      HttpResponse<byte[]> r =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/kv/" + e.getKey())).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() == 200
          && Arrays.equals(MessageDigest.getInstance("SHA-256").digest(r.body()), e.getValue())) {
        verified++;
      } else {
        lost.add(e.getKey() + " -> " + r.statusCode());
      }
    }

    // Phase 2: concurrent GETs of the large values just written and checked.
    Map<String, Integer> readStatuses = new ConcurrentHashMap<>();
    List<String> keys = new ArrayList<>(acked.keySet());
    long readPeakHeap = 0;
    long readBytes = 0;
    long allocatedBefore = metricSum(http, base, ALLOCATED);
    long allocatedDuringReads = 0;
    if (!keys.isEmpty() && readers > 0) {
      java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
      ExecutorService readPool = Executors.newFixedThreadPool(readers);
      long readDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      for (int r = 0; r < readers; r++) {
        int reader = r;
        readPool.submit(
            () -> {
              byte[] buf = new byte[64 * 1024];
              for (int i = reader; System.nanoTime() < readDeadline; i++) {
                String key = keys.get(i % keys.size());
                String status;
                try {
                  HttpResponse<java.io.InputStream> resp =
                      http.send(
                          HttpRequest.newBuilder(URI.create(base + "/kv/" + key))
                              .timeout(Duration.ofSeconds(60))
                              .build(),
                          HttpResponse.BodyHandlers.ofInputStream());
                  status = Integer.toString(resp.statusCode());
                  MessageDigest sha = MessageDigest.getInstance("SHA-256");
                  try (java.io.InputStream in = resp.body()) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                      sha.update(buf, 0, n);
                      bytes.addAndGet(n);
                    }
                  }
                  if (resp.statusCode() == 200 && !Arrays.equals(sha.digest(), acked.get(key))) {
                    status = "200 with other bytes";
                  }
                } catch (Exception e) {
                  status = "connection: " + e.getClass().getSimpleName();
                }
                readStatuses.merge(status, 1, Integer::sum);
              }
              return null;
            });
      }
      while (System.nanoTime() < readDeadline) {
        readPeakHeap = Math.max(readPeakHeap, heapUsed(http, base));
        TimeUnit.MILLISECONDS.sleep(500);
      }
      readPool.shutdown();
      readPool.awaitTermination(120, TimeUnit.SECONDS);
      readBytes = bytes.get();
      allocatedDuringReads = metricSum(http, base, ALLOCATED) - allocatedBefore;
      alive = alive && get(http, base + "/health/live") == 200;
    }
    boolean readsExpected =
        readStatuses.keySet().stream()
            .allMatch(
                s ->
                    s.equals("200")
                        || s.equals("429")
                        || s.equals("503")
                        || s.startsWith("connection: "));

    boolean onlyExpected =
        readsExpected
            && statuses.keySet().stream()
                .allMatch(
                    s ->
                        s.equals("201")
                            || s.equals("429")
                            || s.equals("503")
                            || s.equals("507")
                            || s.startsWith("connection: ")
                            || s.startsWith("slow"));
    System.out.printf(
        "%d s, %d uploaders of %d MiB, %d slow clients%n", seconds, uploaders, valueMib, slow);
    System.out.println("statuses: " + new TreeMap<>(statuses));
    System.out.printf("node heap peak (sampled every 0.5 s): %.0f MiB%n", peakHeap / 1048576.0);
    System.out.printf(
        "acknowledged %d, read back and verified %d, lost %d%n",
        acked.size(), verified, lost.size());
    System.out.printf(
        "then %d readers of those %d values for %d s: %s, %.0f MiB read (%.0f MiB/s),"
            + " node heap peak %.0f MiB, node allocated %.0f MiB meanwhile (%.2f bytes per byte"
            + " sent)%n",
        readers,
        keys.size(),
        seconds,
        new TreeMap<>(readStatuses),
        readBytes / 1048576.0,
        readBytes / 1048576.0 / seconds,
        readPeakHeap / 1048576.0,
        allocatedDuringReads / 1048576.0,
        readBytes == 0 ? 0.0 : (double) allocatedDuringReads / readBytes);
    System.out.println("node alive afterwards: " + alive);
    lost.stream().limit(10).forEach(l -> System.out.println("  lost: " + l));
    System.exit(alive && onlyExpected && lost.isEmpty() ? 0 : 1);
  }

  private static final Pattern HEAP =
      Pattern.compile(
          "^jvm_memory_used_bytes\\{area=\"heap\"[^}]*\\} ([0-9.eE+]+)$", Pattern.MULTILINE);

  /** Bytes the node's JVM allocated, as Micrometer counts them at each collection. */
  private static final Pattern ALLOCATED =
      Pattern.compile("^jvm_gc_memory_allocated_bytes_total ([0-9.eE+]+)$", Pattern.MULTILINE);

  private static long heapUsed(HttpClient http, String base) {
    return metricSum(http, base, HEAP);
  }

  /** The sum of every sample of {@code metric} in the node's Prometheus page, or 0. */
  private static long metricSum(HttpClient http, String base, Pattern metric) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/metrics/prometheus"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      Matcher m = metric.matcher(r.body());
      double sum = 0;
      while (m.find()) {
        sum += Double.parseDouble(m.group(1));
      }
      return (long) sum;
    } catch (Exception e) {
      return 0;
    }
  }

  private static int get(HttpClient http, String url) {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (Exception e) {
      return -1;
    }
  }
}
