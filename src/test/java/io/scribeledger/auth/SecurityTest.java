package io.scribeledger.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.scribeledger.consensus.CommandCodec;
import io.scribeledger.consensus.RaftNode;
import io.scribeledger.ledger.Batch;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.Condition;
import io.scribeledger.support.Api;
import io.scribeledger.support.TestCerts;
import io.scribeledger.support.TestCluster;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.client.HttpResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A 3-node cluster with HTTPS, bearer tokens and mutual TLS on Raft: every route with no token, a
 * wrong token and each role; the Raft port refuses anyone without a certificate of the cluster CA.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecurityTest {

  @TempDir static Path dir;

  private final Vertx vertx = Vertx.vertx();
  private final ListAppender<ILoggingEvent> audit = new ListAppender<>();
  private TestCerts certs;
  private List<TestNode> nodes = List.of();
  private final Map<String, String> tokens = new LinkedHashMap<>();

  /** Who calls: a token (or none, or one the node does not know) and what it may do. */
  private record Caller(String name, String token, Principal principal) {}

  private final List<Caller> callers = new ArrayList<>();

  @BeforeAll
  void startSecureCluster() throws IOException {
    certs = TestCerts.make(dir.resolve("certs"), "n1", "n2", "n3");
    JsonArray entries = new JsonArray();
    addToken(entries, "ops", Role.ADMIN, List.of());
    addToken(entries, "app", Role.WRITER, List.of());
    addToken(entries, "orders-app", Role.WRITER, List.of("orders/"));
    addToken(entries, "auditor", Role.READER, List.of());
    Path tokensFile = dir.resolve("tokens.json");
    Files.writeString(tokensFile, new JsonObject().put("tokens", entries).encodePrettily());
    callers.add(new Caller("no token", null, null));
    callers.add(new Caller("unknown token", TokenStore.newToken(), null));

    List<JsonObject> configs =
        TestCluster.configs(
            dir,
            3,
            new JsonObject()
                .put("security", new JsonObject().put("tokensFile", tokensFile.toString())));
    for (int i = 0; i < 3; i++) {
      configs.get(i).put("tls", certs.tlsSection("n" + (i + 1)));
    }
    ((Logger) LoggerFactory.getLogger(AuditLog.LOGGER)).addAppender(audit);
    audit.start();
    nodes = TestCluster.start(configs);
  }

  private void addToken(JsonArray entries, String name, Role role, List<String> prefixes) {
    String token = TokenStore.newToken();
    tokens.put(name, token);
    JsonObject e =
        new JsonObject()
            .put("name", name)
            .put("sha256", TokenStore.digestHex(token))
            .put("role", role.label());
    if (!prefixes.isEmpty()) {
      e.put("prefixes", new JsonArray(prefixes));
    }
    entries.add(e);
    callers.add(new Caller(name, token, new Principal(name, role, prefixes)));
  }

  @AfterAll
  void stop() {
    nodes.forEach(TestNode::close); // closing one the failover test closed is harmless
    ((Logger) LoggerFactory.getLogger(AuditLog.LOGGER)).detachAppender(audit);
    vertx.close().await();
  }

  /** One request and who may make it. */
  private record Case(
      HttpMethod method, String path, String body, Predicate<Principal> allowed, boolean writes) {}

  private static List<Case> cases() {
    Predicate<Principal> reader = p -> p.may(Role.READER);
    Predicate<Principal> admin = p -> p.may(Role.ADMIN);
    return List.of(
        new Case(HttpMethod.GET, "/metrics", null, reader, false),
        new Case(HttpMethod.GET, "/metrics/prometheus", null, reader, false),
        new Case(HttpMethod.GET, "/cluster/status", null, reader, false),
        new Case(HttpMethod.GET, "/cluster/members", null, reader, false),
        new Case(HttpMethod.GET, "/cluster/leader", null, reader, false),
        // A body an admin is refused for (400): the check passed, nothing changes.
        new Case(HttpMethod.POST, "/cluster/join", "{}", admin, false),
        new Case(HttpMethod.POST, "/cluster/leave", "{}", admin, false),
        new Case(HttpMethod.POST, "/admin/scrub", null, admin, false),
        new Case(HttpMethod.GET, "/ledger/head", null, reader, false),
        new Case(HttpMethod.GET, "/ledger/consistency?first=1&second=1", null, reader, false),
        new Case(
            HttpMethod.GET, "/ledger/entries?from=1&limit=5", null, Principal::mayReadAll, false),
        new Case(HttpMethod.GET, "/segments", null, reader, false),
        new Case(
            HttpMethod.GET, "/kv/orders%2F1", null, p -> p.may(Role.READER, "orders/1"), false),
        new Case(HttpMethod.GET, "/kv/other", null, p -> p.may(Role.READER, "other"), false),
        new Case(HttpMethod.HEAD, "/kv/other", null, p -> p.may(Role.READER, "other"), false),
        new Case(HttpMethod.GET, "/history/other", null, p -> p.may(Role.READER, "other"), false),
        new Case(HttpMethod.GET, "/verify/other", null, p -> p.may(Role.READER, "other"), false),
        new Case(HttpMethod.GET, "/other", null, p -> p.may(Role.READER, "other"), false),
        new Case(
            HttpMethod.PUT, "/kv/orders%2F2", "order 2", p -> p.may(Role.WRITER, "orders/2"), true),
        new Case(
            HttpMethod.PUT, "/kv/other", "other value", p -> p.may(Role.WRITER, "other"), true),
        new Case(
            HttpMethod.PUT, "/legacy", "legacy value", p -> p.may(Role.WRITER, "legacy"), true),
        new Case(HttpMethod.DELETE, "/kv/gone", null, p -> p.may(Role.WRITER, "gone"), true));
  }

  @Test
  void everyRouteChecksTheCallerAndItsRole() {
    Api ops = api(tokens.get("ops"));
    assertEquals(201, ops.put("/kv/other", "first").statusCode());
    assertEquals(201, ops.put("/kv/gone", "to delete").statusCode());
    assertEquals(201, ops.put("/kv/orders%2F1", "order 1").statusCode());
    long size = treeSize(ops);
    // Denied first: nothing they send may change the ledger.
    for (Caller caller : callers) {
      try (Api api = api(caller.token())) {
        for (Case c : cases()) {
          boolean allowed = caller.principal() != null && c.allowed().test(caller.principal());
          if (allowed) {
            continue;
          }
          HttpResponse<Buffer> r = send(api, c);
          String what = caller.name() + " " + c.method() + " " + c.path();
          int expected = caller.principal() == null ? 401 : 403;
          assertEquals(expected, r.statusCode(), what + ": " + r.bodyAsString());
          if (!c.method().equals(HttpMethod.HEAD)) {
            assertEquals(
                expected == 401 ? "unauthorized" : "forbidden",
                r.bodyAsJsonObject().getString("error"),
                what);
          }
          if (expected == 401) {
            assertTrue(r.getHeader("WWW-Authenticate").startsWith("Bearer"), what);
          }
        }
      }
    }
    assertEquals(size, treeSize(ops), "no denied request wrote anything");
    for (Caller caller : callers) {
      if (caller.principal() == null) {
        continue;
      }
      try (Api api = api(caller.token())) {
        for (Case c : cases()) {
          if (!c.allowed().test(caller.principal())) {
            continue;
          }
          HttpResponse<Buffer> r = send(api, c);
          String what = caller.name() + " " + c.method() + " " + c.path();
          assertNotEquals(401, r.statusCode(), what);
          assertNotEquals(403, r.statusCode(), what);
          assertTrue(r.statusCode() < 500, what + ": " + r.bodyAsString());
        }
      }
    }
    // The probes stay open: a kubelet has no token. It learns the status, not the details.
    try (Api anonymous = api(null);
        Api auditor = api(tokens.get("auditor"))) {
      HttpResponse<Buffer> health = anonymous.get("/health");
      assertEquals(200, health.statusCode());
      assertEquals(Set.of("status"), health.bodyAsJsonObject().fieldNames());
      assertTrue(auditor.get("/health").bodyAsJsonObject().containsKey("appliedIndex"));
      assertEquals(200, anonymous.get("/health/live").statusCode());
      assertEquals(200, anonymous.get("/health/ready").statusCode());
    }
  }

  @Test
  void theAuditLogNamesWhoWasRefusedAndNeverATokenOrDigest() {
    String wrong = TokenStore.newToken();
    try (Api stranger = api(wrong);
        Api auditor = api(tokens.get("auditor"));
        Api ops = api(tokens.get("ops"))) {
      int before = audit.list.size();
      for (int i = 0; i < 50; i++) {
        assertEquals(401, stranger.get("/kv/x").statusCode());
      }
      // Anyone can cause these: one line per caller per window on each event loop, then a count.
      long lines =
          audit.list.subList(before, audit.list.size()).stream()
              .filter(e -> e.getFormattedMessage().contains("auth_failed"))
              .count();
      assertTrue(lines <= 4, lines + " audit lines for 50 refused requests");
      assertEquals(403, auditor.put("/kv/x", "no").statusCode());
      assertEquals(200, ops.send(HttpMethod.POST, "/admin/scrub", null, null).statusCode());
    }
    List<JsonObject> lines =
        audit.list.stream().map(e -> new JsonObject(e.getFormattedMessage())).toList();
    assertTrue(
        lines.stream()
            .anyMatch(
                l ->
                    l.getString("event").equals("auth_failed")
                        && l.getString("principal").equals("unknown-token")
                        && l.getString("requestId") != null),
        lines.toString());
    assertTrue(
        lines.stream()
            .anyMatch(
                l ->
                    l.getString("event").equals("denied")
                        && l.getString("principal").equals("auditor")
                        && l.getString("route").equals("PUT /kv/x")),
        lines.toString());
    assertTrue(
        lines.stream()
            .anyMatch(
                l ->
                    l.getString("event").equals("scrub") && l.getString("principal").equals("ops")),
        lines.toString());
    String all = lines.toString();
    for (String secret : tokens.values()) {
      assertFalse(all.contains(secret), "a token in the audit log");
      assertFalse(all.contains(TokenStore.digestHex(secret)), "a token digest in the audit log");
    }
    assertFalse(all.contains(wrong), "a presented token in the audit log");
  }

  @Test
  void aLargeValueSentFromDiskArrivesWholeOverTls() {
    // Over TLS a file cannot go out zero-copy: Vert.x reads it in chunks through the TLS engine.
    byte[] big = new byte[1 << 20];
    new java.util.Random(3).nextBytes(big);
    try (Api ops = api(tokens.get("ops"))) {
      assertEquals(
          201, ops.put("/kv/large-over-tls", big, "application/octet-stream").statusCode());
      var got = ops.get("/kv/large-over-tls");
      assertEquals(200, got.statusCode());
      org.junit.jupiter.api.Assertions.assertArrayEquals(big, got.body().getBytes());
    }
  }

  @Test
  void plainHttpGetsNoAnswerFromTheHttpsPort() {
    try (Api plain = new Api(vertx, nodes.get(0).httpPort())) {
      assertThrows(RuntimeException.class, () -> plain.get("/health"));
    }
  }

  @Test
  void theRaftPortRefusesEveryoneWithoutACertificateOfTheClusterCa() throws Exception {
    TestCerts rogue = TestCerts.make(dir.resolve("rogue"), "n1", "mallory");
    long size;
    try (Api ops = api(tokens.get("ops"))) {
      size = treeSize(ops);
    }
    List<Parameters> attackers = new ArrayList<>();
    attackers.add(new Parameters()); // no TLS at all
    attackers.add(tls(rogue.key("mallory"), rogue.cert("mallory"), certs.ca())); // another CA
    attackers.add(tls(rogue.key("n1"), rogue.cert("n1"), certs.ca())); // a member's name, wrong CA
    attackers.add(tls(rogue.dir().resolve("ca-key.pem"), rogue.ca(), certs.ca())); // self-signed
    byte[] proposal =
        CommandCodec.encode(
            new Batch(
                List.of(
                    new Command.Put(
                        "forged",
                        "text/plain",
                        "x".getBytes(StandardCharsets.UTF_8),
                        Condition.NONE))));
    for (Parameters attacker : attackers) {
      try (RaftClient raw = rawClient(attacker)) {
        assertThrows(
            Exception.class,
            () ->
                raw.async()
                    .send(Message.valueOf(ByteString.copyFrom(proposal)))
                    .get(20, TimeUnit.SECONDS),
            "append");
        assertThrows(
            Exception.class,
            () ->
                raw.async()
                    .sendReadOnly(Message.valueOf(ByteString.EMPTY))
                    .get(20, TimeUnit.SECONDS),
            "read");
        assertThrows(
            Exception.class,
            () ->
                raw.getGroupManagementApi(
                        raw.getLeaderId() == null
                            ? org.apache.ratis.protocol.RaftPeerId.valueOf("n1")
                            : raw.getLeaderId())
                    .list(),
            "admin");
      }
    }
    try (Api ops = api(tokens.get("ops"))) {
      assertEquals(size, treeSize(ops), "nothing reached the log");
      assertEquals(404, ops.get("/kv/forged").statusCode());
      assertEquals(201, ops.put("/kv/after-attack", "the members still talk").statusCode());
    }
  }

  @Test
  void aForgedJoinChangesNothingAndReadsNothingFromTheNamedAddresses() throws Exception {
    TestCerts rogue = TestCerts.make(dir.resolve("rogue-join"), "n9");
    AtomicInteger httpConnections = new AtomicInteger();
    // Where the forged join points the node's HTTP address: a server that would stream for ever.
    HttpServer endless =
        vertx
            .createHttpServer()
            .connectionHandler(c -> httpConnections.incrementAndGet())
            .requestHandler(
                req -> {
                  req.response().setChunked(true);
                  vertx.setPeriodic(
                      1, t -> req.response().write(Buffer.buffer(new byte[64 * 1024])));
                })
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    // Where it points Raft: a TLS server whose certificate another CA signed, and a plain one.
    NetServer otherCa =
        vertx
            .createNetServer(
                new NetServerOptions()
                    .setSsl(true)
                    .setKeyCertOptions(
                        new PemKeyCertOptions()
                            .setCertPath(rogue.cert("n9").toString())
                            .setKeyPath(rogue.key("n9").toString())))
            .connectHandler(socket -> {})
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    NetServer plain =
        vertx
            .createNetServer()
            .connectHandler(socket -> {})
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    try (Api ops = api(tokens.get("ops"));
        Api auditor = api(tokens.get("auditor"));
        Api anonymous = api(null)) {
      JsonArray before = ops.get("/cluster/members").bodyAsJsonObject().getJsonArray("members");
      for (NetServer raft : List.of(otherCa, plain)) {
        JsonObject join = joinBody("n9", raft.actualPort(), endless.actualPort());
        assertEquals(
            401,
            anonymous.send(HttpMethod.POST, "/cluster/join", join.toBuffer(), null).statusCode());
        assertEquals(
            403,
            auditor.send(HttpMethod.POST, "/cluster/join", join.toBuffer(), null).statusCode());
        HttpResponse<Buffer> forged =
            ops.send(HttpMethod.POST, "/cluster/join", join.toBuffer(), null);
        assertEquals(403, forged.statusCode(), forged.bodyAsString());
        assertEquals("forbidden", forged.bodyAsJsonObject().getString("error"));
        assertTrue(forged.bodyAsJsonObject().getString("message").contains("did not prove"));
      }
      // A member's own certificate does not let it join (or re-register) under another name.
      JsonObject impersonation =
          joinBody(
              "n9",
              nodes.get(1).config().getJsonObject("raft").getInteger("port"),
              endless.actualPort());
      assertEquals(
          403,
          ops.send(HttpMethod.POST, "/cluster/join", impersonation.toBuffer(), null).statusCode());
      // Nor can a join move an existing member to another address.
      JsonObject move =
          joinBody(
              "n2",
              nodes.get(1).config().getJsonObject("raft").getInteger("port"),
              endless.actualPort());
      HttpResponse<Buffer> moved =
          ops.send(HttpMethod.POST, "/cluster/join", move.toBuffer(), null);
      assertEquals(400, moved.statusCode(), moved.bodyAsString());
      assertEquals(
          before,
          ops.get("/cluster/members").bodyAsJsonObject().getJsonArray("members"),
          "membership unchanged");
      assertEquals(0, httpConnections.get(), "nothing was fetched from the named HTTP address");
    } finally {
      endless.close().await(10, TimeUnit.SECONDS);
      otherCa.close().await(10, TimeUnit.SECONDS);
      plain.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aNodeWithAClusterCertificateJoinsOverMutualTlsAndLeaves() throws Exception {
    TestCerts.make(dir.resolve("certs"), "n4"); // the same CA as the members
    JsonObject c4 =
        TestCluster.joiner(dir, "n4", List.of(nodes.get(0).config()), new JsonObject())
            .put("tls", certs.tlsSection("n4"))
            .put("security", nodes.get(0).config().getJsonObject("security").copy());
    try (Api ops = api(tokens.get("ops"))) {
      assertEquals(201, ops.put("/kv/before-n4", "old enough").statusCode());
      try (TestNode n4 = TestNode.launch(c4);
          Api onN4 = Api.secure(vertx, n4.httpPort(), certs.ca(), tokens.get("ops"))) {
        JsonObject join =
            joinBody(
                "n4",
                c4.getJsonObject("raft").getInteger("port"),
                c4.getJsonObject("http").getInteger("port"));
        HttpResponse<Buffer> joined =
            ops.send(HttpMethod.POST, "/cluster/join", join.toBuffer(), null);
        assertEquals(200, joined.statusCode(), joined.bodyAsString());
        assertTrue(joined.bodyAsJsonObject().getBoolean("voter"));
        onN4.awaitApplied(treeSize(ops), 30_000);
        assertEquals("old enough", onN4.get("/kv/before-n4?consistency=stale").bodyAsString());
        HttpResponse<Buffer> left =
            ops.send(
                HttpMethod.POST,
                "/cluster/leave",
                new JsonObject().put("nodeId", "n4").toBuffer(),
                null);
        assertEquals(200, left.statusCode(), left.bodyAsString());
      }
    }
  }

  /** Last: it takes the leader away for good. */
  @Test
  @Order(Integer.MAX_VALUE)
  void theMutualTlsClusterFailsOverWhenTheLeaderStops() {
    int leader;
    try (Api ops = api(tokens.get("ops"))) {
      leader = ops.leaderNumber();
      assertEquals(201, ops.put("/kv/before-failover", "kept").statusCode());
    }
    long size;
    try (Api ops = api(tokens.get("ops"))) {
      size = treeSize(ops);
    }
    nodes.get(leader - 1).close();
    TestNode survivor = nodes.get(leader % 3);
    try (Api ops = Api.secure(vertx, survivor.httpPort(), certs.ca(), tokens.get("ops"))) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      int status = 0;
      while (status != 201 && System.nanoTime() < deadline) {
        status = ops.put("/kv/after-failover", "written over mTLS to the new leader").statusCode();
      }
      assertEquals(201, status, "a new leader takes writes over mutual TLS");
      assertNotEquals(leader, ops.leaderNumber());
      assertEquals("kept", ops.get("/kv/before-failover").bodyAsString());
      // A try answered "outcome unknown" during the election may still have committed: each try
      // is one more version of the same key, nothing else.
      JsonArray versions =
          ops.get("/history/after-failover").bodyAsJsonObject().getJsonArray("versions");
      assertEquals(size + versions.size(), treeSize(ops), versions::encode);
      assertEquals(
          "written over mTLS to the new leader", ops.get("/kv/after-failover").bodyAsString());
    }
  }

  /** A {@code /cluster/join} body naming {@code nodeId} at these loopback ports. */
  private static JsonObject joinBody(String nodeId, int raftPort, int httpPort) {
    return new JsonObject()
        .put("nodeId", nodeId)
        .put("raftAddress", "127.0.0.1:" + raftPort)
        .put("httpAddress", "127.0.0.1:" + httpPort);
  }

  private static Parameters tls(Path key, Path cert, Path trust) {
    Parameters p = new Parameters();
    GrpcConfigKeys.TLS.setConf(
        p, new GrpcTlsConfig(key.toFile(), cert.toFile(), trust.toFile(), true));
    return p;
  }

  private RaftClient rawClient(Parameters parameters) {
    List<RaftPeer> peers = new ArrayList<>();
    for (TestNode n : nodes) {
      peers.add(
          RaftPeer.newBuilder()
              .setId(n.config().getJsonObject("node").getString("id"))
              .setAddress("127.0.0.1:" + n.config().getJsonObject("raft").getInteger("port"))
              .build());
    }
    RaftProperties props = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(props, TimeDuration.valueOf(2, TimeUnit.SECONDS));
    return RaftClient.newBuilder()
        .setRaftGroup(RaftGroup.valueOf(RaftNode.GROUP_ID, peers))
        .setProperties(props)
        .setParameters(parameters)
        .setRetryPolicy(
            RetryPolicies.retryUpToMaximumCountWithFixedSleep(2, TimeDuration.ONE_SECOND))
        .build();
  }

  /** The ledger's size by a linearizable read (this node may be a follower a moment behind). */
  private static long treeSize(Api api) {
    return api.get("/ledger/head").bodyAsJsonObject().getLong("treeSize");
  }

  private Api api(String token) {
    return Api.secure(vertx, nodes.get(0).httpPort(), certs.ca(), token);
  }

  private static HttpResponse<Buffer> send(Api api, Case c) {
    return api.send(
        c.method(),
        c.path(),
        c.body() == null ? null : Buffer.buffer(c.body(), StandardCharsets.UTF_8.name()),
        null);
  }
}
