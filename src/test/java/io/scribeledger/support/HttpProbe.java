package io.scribeledger.support;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;

/** Polls an HTTP endpoint with a deadline; used to wait for a node without fixed sleeps. */
public final class HttpProbe {

  private final String baseUrl;
  private final HttpClient client;

  public HttpProbe(String baseUrl) {
    this(baseUrl, null);
  }

  /** A probe of an HTTPS node whose certificate {@code ssl} trusts (null: the JVM's CAs). */
  public HttpProbe(String baseUrl, SSLContext ssl) {
    this.baseUrl = baseUrl;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
    this.client = (ssl == null ? b : b.sslContext(ssl)).build();
  }

  /** Returns once {@code path} answers {@code status}; fails after {@code timeoutMs}. */
  public void awaitStatus(String path, int status, long timeoutMs) {
    awaitStatus(path, status, timeoutMs, () -> false);
  }

  /** As above; fails as soon as {@code gone} says the server will never answer (it exited). */
  public void awaitStatus(String path, int status, long timeoutMs, BooleanSupplier gone) {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    int last = -1;
    while (System.nanoTime() < deadline && !gone.getAsBoolean()) {
      try {
        HttpResponse<Void> r =
            client.send(
                HttpRequest.newBuilder(URI.create(baseUrl + path))
                    .timeout(Duration.ofSeconds(2))
                    .build(),
                HttpResponse.BodyHandlers.discarding());
        last = r.statusCode();
        if (last == status) {
          return;
        }
      } catch (IOException e) {
        last = -1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      pause();
    }
    throw new IllegalStateException(
        baseUrl
            + path
            + " did not answer "
            + status
            + " within "
            + timeoutMs
            + " ms (last "
            + last
            + ")");
  }

  private static void pause() {
    try {
      // Poll interval of a deadline-bounded wait, not a wait for an event.
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
