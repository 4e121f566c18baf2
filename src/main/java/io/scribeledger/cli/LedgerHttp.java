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
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  LedgerHttp(String baseUrl) {
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
  }

  static String encode(String key) {
    return URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
  }

  HttpResponse<byte[]> get(String pathAndQuery) throws Unreachable {
    try {
      return client.send(
          HttpRequest.newBuilder(URI.create(baseUrl + pathAndQuery))
              .timeout(Duration.ofSeconds(30))
              .build(),
          HttpResponse.BodyHandlers.ofByteArray());
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
