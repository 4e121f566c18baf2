package io.scribeledger.cli;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * The few HTTP calls the CLI makes, with the JDK client. Failures to reach the node are {@link
 * Unreachable}.
 */
final class LedgerHttp {

  /** The node could not be reached or answered something that is not the API. */
  static final class Unreachable extends Exception {
    Unreachable(String message) {
      super(message);
    }
  }

  /** The node answered with an API error instead of what was asked for. */
  static final class Refused extends Exception {
    Refused(String message) {
      super(message);
    }
  }

  private final String baseUrl;
  private final HttpClient client;
  private final String token;

  /**
   * A client of the node at {@code baseUrl}; {@code ssl} null trusts the JVM's CAs, {@code token}
   * null sends no Authorization header.
   */
  LedgerHttp(String baseUrl, SSLContext ssl, String token) {
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
    this.client = (ssl == null ? b : b.sslContext(ssl)).build();
    this.token = token;
  }

  static String encode(String key) {
    return URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
  }

  HttpResponse<byte[]> get(String pathAndQuery) throws Unreachable {
    try {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(baseUrl + pathAndQuery))
              .timeout(Duration.ofSeconds(30));
      if (token != null) {
        request.header("Authorization", "Bearer " + token);
      }
      return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException | IllegalArgumentException e) {
      throw new Unreachable("cannot reach " + baseUrl + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted");
    }
  }

  /** GETs a JSON body that must come with status 200. */
  JsonObject json(String pathAndQuery) throws Unreachable, Refused {
    HttpResponse<byte[]> r = get(pathAndQuery);
    String body = new String(r.body(), StandardCharsets.UTF_8);
    if (r.statusCode() != 200) {
      throw new Refused("GET " + pathAndQuery + " answered " + r.statusCode() + ": " + body);
    }
    try {
      return new JsonObject(body);
    } catch (DecodeException e) {
      throw new Unreachable("GET " + pathAndQuery + " did not answer JSON");
    }
  }
}
