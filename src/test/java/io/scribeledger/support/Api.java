package io.scribeledger.support;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A real HTTP client (Vert.x WebClient over loopback) with blocking helpers for test threads. */
public final class Api implements AutoCloseable {

  private final WebClient client;
  private final String host;
  private final int port;
  private final String token;

  public Api(Vertx vertx, int port, int connections) {
    this(vertx, "127.0.0.1", port, connections);
  }

  /** A client of the node at {@code host:port} (a network namespace's address, say). */
  public Api(Vertx vertx, String host, int port, int connections) {
    this.client =
        WebClient.create(
            vertx,
            new WebClientOptions().setDefaultHost(host).setDefaultPort(port).setKeepAlive(true),
            new PoolOptions().setHttp1MaxSize(connections));
    this.host = host;
    this.port = port;
    this.token = null;
  }

  public Api(Vertx vertx, int port) {
    this(vertx, port, 4);
  }

  private Api(Vertx vertx, int port, WebClientOptions options, String token) {
    this.client = WebClient.create(vertx, options.setDefaultHost("127.0.0.1").setDefaultPort(port));
    this.host = "127.0.0.1";
    this.port = port;
    this.token = token;
  }

  /**
   * A client of an HTTPS node on loopback that trusts {@code caPem} and sends {@code token} as its
   * bearer token (null: none).
   */
  public static Api secure(Vertx vertx, int port, java.nio.file.Path caPem, String token) {
    return new Api(
        vertx,
        port,
        new WebClientOptions()
            .setSsl(true)
            .setTrustOptions(new PemTrustOptions().addCertPath(caPem.toString())),
        token);
  }

  public HttpRequest<Buffer> request(HttpMethod method, String uri) {
    HttpRequest<Buffer> request = client.request(method, port, host, uri);
    return token == null ? request : request.bearerTokenAuthentication(token);
  }

  public HttpResponse<Buffer> send(HttpMethod method, String uri, Buffer body, MultiMap headers) {
    HttpRequest<Buffer> req = request(method, uri);
    if (headers != null) {
      req.putHeaders(headers);
    }
    try {
      return (body == null ? req.send() : req.sendBuffer(body)).await(60, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(method + " " + uri + " got no response within 60 s", e);
    }
  }

  public HttpResponse<Buffer> get(String uri) {
    return send(HttpMethod.GET, uri, null, null);
  }

  public HttpResponse<Buffer> put(String uri, String body) {
    return send(HttpMethod.PUT, uri, Buffer.buffer(body), null);
  }

  public HttpResponse<Buffer> put(String uri, byte[] body, String contentType) {
    return send(
        HttpMethod.PUT,
        uri,
        Buffer.buffer(body),
        MultiMap.caseInsensitiveMultiMap().add("Content-Type", contentType));
  }

  public HttpResponse<Buffer> delete(String uri) {
    return send(HttpMethod.DELETE, uri, null, null);
  }

  /** The number of the leader this node reports ({@code 2} for {@code n2}). */
  public int leaderNumber() {
    return Integer.parseInt(
        get("/cluster/leader").bodyAsJsonObject().getString("leaderId").substring(1));
  }

  /** Member {@code nodeId}'s entry in this node's {@code /cluster/members}, or an empty object. */
  public JsonObject member(String nodeId) {
    return get("/cluster/members").bodyAsJsonObject().getJsonArray("members").stream()
        .map(JsonObject.class::cast)
        .filter(m -> nodeId.equals(m.getString("nodeId")))
        .findFirst()
        .orElse(new JsonObject());
  }

  /** The ledger size as the node reports it, to check that refused input appended nothing. */
  public long ledgerSize() {
    JsonObject m = get("/metrics").bodyAsJsonObject();
    return m.getJsonObject("ledger").getLong("size");
  }

  /**
   * Polls until this node has applied ledger index {@code index}; fails after {@code timeoutMs}.
   */
  public void awaitApplied(long index, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    long size = -1;
    while (System.currentTimeMillis() < deadline) {
      HttpResponse<Buffer> r = get("/metrics");
      if (r.statusCode() == 200
          && (size = r.bodyAsJsonObject().getJsonObject("ledger").getLong("size")) >= index) {
        return;
      }
    }
    throw new AssertionError(
        "node reached index " + size + ", not " + index + ", within " + timeoutMs + " ms");
  }

  @Override
  public void close() {
    client.close();
  }
}
