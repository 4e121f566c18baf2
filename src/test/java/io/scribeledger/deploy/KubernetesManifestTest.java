package io.scribeledger.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.auth.TokenStore;
import io.scribeledger.config.ConfigResolver;
import io.scribeledger.config.NodeConfig;
import io.scribeledger.support.Api;
import io.scribeledger.support.Ports;
import io.scribeledger.support.TestCerts;
import io.scribeledger.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The Kubernetes manifests describe a cluster the node accepts: every pod's configuration (the
 * ConfigMap plus the environment the StatefulSet gives it) resolves, names the pod among the same
 * peers at the addresses the Services publish, and the probes ask what a real node answers.
 */
@ExtendWith(VertxExtension.class)
class KubernetesManifestTest {

  private static final Path MANIFEST = Path.of("k8s/scribe-ledger.yaml");
  private static List<Map<String, Object>> objects;

  @BeforeAll
  static void load() throws IOException {
    objects = new ArrayList<>();
    try (Reader in = Files.newBufferedReader(MANIFEST)) {
      for (Object doc : new Yaml().loadAll(in)) {
        objects.add(map(doc));
      }
    }
  }

  @Test
  void everyPodResolvesToAMemberOfOneGroupAtThePublishedAddresses() {
    Map<String, Object> sts = only("StatefulSet");
    Map<String, Object> spec = map(sts.get("spec"));
    String set = name(sts);
    int replicas = (Integer) spec.get("replicas");
    assertTrue(
        replicas >= 3 && replicas % 2 == 1, "an odd group of at least 3 survives a member down");
    Map<String, Object> container = container();
    Set<String> expectedIds = new HashSet<>();
    for (int i = 0; i < replicas; i++) {
      expectedIds.add(set + "-" + i);
    }
    for (int i = 0; i < replicas; i++) {
      String pod = set + "-" + i;
      NodeConfig config = ConfigResolver.resolve(podConfig(container, pod));
      assertEquals(pod, config.node().id());
      assertEquals("0.0.0.0", config.http().host(), "reachable from other pods");
      assertEquals("0.0.0.0", config.raft().host(), "reachable from other pods");
      assertEquals(containerPort(container, "http"), config.http().port());
      assertEquals(containerPort(container, "raft"), config.raft().port());
      assertTrue(
          config.node().dataDir().startsWith(mountPath(container, "data")),
          "data on the persistent volume");
      Set<String> ids = new HashSet<>();
      for (NodeConfig.Peer peer : config.raft().peers()) {
        ids.add(peer.id());
        String host = peer.id() + "." + spec.get("serviceName");
        assertEquals(
            host + ":" + config.raft().port(),
            peer.raftAddress(),
            "the headless Service's DNS name");
        assertEquals(host + ":" + config.http().port(), peer.httpAddress());
      }
      assertEquals(expectedIds, ids, "the peers are exactly the StatefulSet's pods");
    }
  }

  @Test
  void servicesSelectThePodsAndPublishPeersBeforeTheyAreReady() {
    Map<String, Object> sts = only("StatefulSet");
    Map<String, Object> spec = map(sts.get("spec"));
    Map<String, Object> podLabels =
        map(map(map(spec.get("template")).get("metadata")).get("labels"));
    assertEquals(
        "Parallel", spec.get("podManagementPolicy"), "a member is ready only once a quorum runs");
    Map<String, Object> headless = named("Service", (String) spec.get("serviceName"));
    Map<String, Object> headlessSpec = map(headless.get("spec"));
    assertEquals("None", headlessSpec.get("clusterIP"));
    assertEquals(
        true, headlessSpec.get("publishNotReadyAddresses"), "peers must resolve to elect a leader");
    Set<String> containerPorts = new HashSet<>();
    for (Object p : list(container().get("ports"))) {
      containerPorts.add((String) map(p).get("name"));
    }
    for (Map<String, Object> service : all("Service")) {
      Map<String, Object> s = map(service.get("spec"));
      assertTrue(
          podLabels.entrySet().containsAll(map(s.get("selector")).entrySet()),
          name(service) + " selects the pods");
      for (Object port : list(s.get("ports"))) {
        assertTrue(
            containerPorts.contains(map(port).get("targetPort")),
            name(service) + " targets a named port");
      }
    }
    Map<String, Object> pdb = map(only("PodDisruptionBudget").get("spec"));
    assertEquals(1, pdb.get("maxUnavailable"), "a voluntary disruption never takes the quorum");
    assertEquals(podLabels, map(map(pdb.get("selector")).get("matchLabels")));
  }

  @Test
  void theImageRunsAsTheUserAndPortsTheManifestExpects() throws IOException {
    List<String> dockerfile = Files.readAllLines(Path.of("Dockerfile"));
    Map<String, Object> podSecurity =
        map(
            map(map(map(only("StatefulSet").get("spec")).get("template")).get("spec"))
                .get("securityContext"));
    String user = podSecurity.get("runAsUser") + ":" + podSecurity.get("runAsGroup");
    assertTrue(dockerfile.contains("USER " + user), "the Dockerfile's USER is " + user);
    String expose =
        dockerfile.stream().filter(l -> l.startsWith("EXPOSE ")).findFirst().orElseThrow();
    for (String port : List.of("http", "raft", "discovery")) {
      assertTrue(expose.contains(String.valueOf(containerPort(container(), port))), expose);
    }
  }

  @Test
  void membersAreSecuredBySecretsNetworkPolicyAndSeccomp() {
    Map<String, Object> container = container();
    NodeConfig config = ConfigResolver.resolve(podConfig(container, "scribe-0"));
    assertFalse(config.security().allowInsecure(), "no opt-out in the manifest");
    assertTrue(
        config.security().tls().orElseThrow().certFile().endsWith("scribe-0.pem"),
        "each member presents the certificate issued to its own id");
    assertTrue(config.rateLimit().enabled(), "rates are on for a node on the network");
    NodeConfig.Tls tls = config.security().tls().orElseThrow();
    for (Path file :
        List.of(
            tls.certFile(),
            tls.keyFile(),
            tls.caFile(),
            config.security().tokensFile().orElseThrow(),
            config.discovery().keyFile().orElseThrow())) {
      String volume = volumeAt(container, file.getParent());
      assertNotNull(secretOf(volume), file + " comes from a Secret, not the image or a ConfigMap");
    }
    for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
      assertEquals("HTTPS", map(map(container.get(probe)).get("httpGet")).get("scheme"), probe);
    }
    Map<String, Object> podSpec =
        map(map(map(only("StatefulSet").get("spec")).get("template")).get("spec"));
    assertEquals(
        "RuntimeDefault",
        map(map(podSpec.get("securityContext")).get("seccompProfile")).get("type"));
    String image = (String) container.get("image");
    assertTrue(
        image.contains(":") && !image.endsWith(":latest"), "a version tag, not latest: " + image);

    Map<String, Object> policy = map(only("NetworkPolicy").get("spec"));
    Map<String, Object> podLabels =
        map(
            map(map(map(only("StatefulSet").get("spec")).get("template")).get("metadata"))
                .get("labels"));
    assertEquals(podLabels, map(map(policy.get("podSelector")).get("matchLabels")));
    int raftPort = containerPort(container, "raft");
    boolean raftRuleFound = false;
    for (Object r : list(policy.get("ingress"))) {
      Map<String, Object> rule = map(r);
      boolean coversRaft =
          list(rule.get("ports")).stream().anyMatch(p -> raftPort == (Integer) map(p).get("port"));
      if (coversRaft) {
        raftRuleFound = true;
        List<Object> from = list(rule.get("from"));
        assertEquals(1, from.size(), "the Raft port admits one kind of peer");
        assertEquals(
            podLabels,
            map(map(map(from.get(0)).get("podSelector")).get("matchLabels")),
            "only members reach the Raft port");
      }
    }
    assertTrue(raftRuleFound, "a rule names the Raft port");

    // Discovery: on, bound everywhere, advertised under the pod's stable peer name, the seeds are
    // the StatefulSet's pods at the container's discovery port, and only members reach it.
    NodeConfig.Discovery discovery = config.discovery();
    assertTrue(discovery.enabled());
    assertEquals(containerPort(container, "discovery"), discovery.port());
    assertEquals("scribe-0.scribe-peers:" + discovery.port(), discovery.address());
    assertEquals(
        List.of(
            "scribe-0.scribe-peers:" + discovery.port(),
            "scribe-1.scribe-peers:" + discovery.port(),
            "scribe-2.scribe-peers:" + discovery.port()),
        discovery.seeds());
    boolean udpRuleFound = false;
    for (Object r : list(policy.get("ingress"))) {
      Map<String, Object> rule = map(r);
      for (Object p : list(rule.get("ports"))) {
        if ("UDP".equals(map(p).get("protocol"))
            && Integer.valueOf(discovery.port()).equals(map(p).get("port"))) {
          udpRuleFound = true;
          assertEquals(1, list(rule.get("from")).size(), "only members reach discovery");
        }
      }
    }
    assertTrue(udpRuleFound, "a rule names the discovery port");
  }

  @Test
  void theProbesAskWhatANodeAnswersAndTheContainerConfigStartsANode(Vertx vertx, @TempDir Path dir)
      throws Exception {
    // conf/container.json as the image runs it, with the loopback ports, data directory, TLS
    // material and tokens of this test laid over it.
    JsonObject config = new JsonObject(Files.readString(Path.of("conf/container.json")));
    NodeConfig resolved = ConfigResolver.resolve(config);
    assertEquals(Path.of("/data"), resolved.node().dataDir(), "the image's volume");
    assertEquals("0.0.0.0", resolved.http().host());
    assertTrue(resolved.security().tls().isPresent(), "the image serves HTTPS and Raft mTLS");
    assertTrue(resolved.security().tokensRequired(), "the image needs tokens");
    TestCerts certs = TestCerts.make(dir.resolve("certs"), "n1");
    String token = TokenStore.newToken();
    Path tokens = dir.resolve("tokens.json");
    Files.writeString(
        tokens,
        new JsonObject()
            .put(
                "tokens",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("name", "ops")
                            .put("sha256", TokenStore.digestHex(token))
                            .put("role", "admin")))
            .encode());
    config.getJsonObject("node").put("dataDir", dir.resolve("data").toString());
    config.getJsonObject("http").put("port", Ports.free());
    config.getJsonObject("raft").put("port", Ports.free());
    config.put("tls", certs.tlsSection("n1"));
    config.getJsonObject("security").put("tokensFile", tokens.toString());
    try (TestNode node = TestNode.start(config);
        Api api = Api.secure(vertx, node.httpPort(), certs.ca(), token);
        Api anonymous = Api.secure(vertx, node.httpPort(), certs.ca(), null)) {
      for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
        Map<String, Object> get = map(map(container().get(probe)).get("httpGet"));
        assertEquals("http", get.get("port"));
        assertEquals(
            200,
            anonymous.get((String) get.get("path")).statusCode(),
            probe + " " + get.get("path") + " needs no token");
      }
      assertEquals(401, anonymous.put("/kv/container", "c").statusCode());
      assertEquals(201, api.put("/kv/container", "c").statusCode());
    }
  }

  private static String volumeAt(Map<String, Object> container, Path mount) {
    for (Object m : list(container.get("volumeMounts"))) {
      if (mount.toString().equals(map(m).get("mountPath"))) {
        return (String) map(m).get("name");
      }
    }
    throw new AssertionError("nothing is mounted at " + mount);
  }

  private static String secretOf(String volume) {
    for (Object v :
        list(
            map(map(map(only("StatefulSet").get("spec")).get("template")).get("spec"))
                .get("volumes"))) {
      if (volume.equals(map(v).get("name")) && map(v).get("secret") != null) {
        return (String) map(map(v).get("secret")).get("secretName");
      }
    }
    return null;
  }

  /** The pod's config as the node sees it: the mounted ConfigMap file, then its environment. */
  private static JsonObject podConfig(Map<String, Object> container, String pod) {
    List<Object> args = list(container.get("args"));
    String confPath = (String) args.get(args.indexOf("-conf") + 1);
    Path file = Path.of(confPath);
    String mount = file.getParent().toString();
    String volume = null;
    for (Object m : list(container.get("volumeMounts"))) {
      if (mount.equals(map(m).get("mountPath"))) {
        volume = (String) map(m).get("name");
      }
    }
    assertNotNull(volume, "-conf " + confPath + " is on a mounted volume");
    String configMap = null;
    for (Object v :
        list(
            map(map(map(only("StatefulSet").get("spec")).get("template")).get("spec"))
                .get("volumes"))) {
      if (volume.equals(map(v).get("name"))) {
        configMap = (String) map(map(v).get("configMap")).get("name");
      }
    }
    assertNotNull(configMap, volume + " is a ConfigMap");
    JsonObject merged =
        new JsonObject(
            (String)
                map(named("ConfigMap", configMap).get("data")).get(file.getFileName().toString()));
    Map<String, String> defined = new java.util.HashMap<>();
    for (Object e : list(container.get("env"))) {
      Map<String, Object> env = map(e);
      Object value = env.get("value");
      if (value == null) {
        assertEquals(
            "metadata.name", map(map(env.get("valueFrom")).get("fieldRef")).get("fieldPath"));
        value = pod;
      }
      // Kubernetes expands $(NAME) with variables defined before it.
      String expanded = String.valueOf(value);
      for (Map.Entry<String, String> d : defined.entrySet()) {
        expanded = expanded.replace("$(" + d.getKey() + ")", d.getValue());
      }
      defined.put((String) env.get("name"), expanded);
      merged.put((String) env.get("name"), expanded);
    }
    return merged;
  }

  private static Map<String, Object> container() {
    Map<String, Object> pod =
        map(map(map(only("StatefulSet").get("spec")).get("template")).get("spec"));
    return map(list(pod.get("containers")).get(0));
  }

  private static int containerPort(Map<String, Object> container, String name) {
    for (Object p : list(container.get("ports"))) {
      if (name.equals(map(p).get("name"))) {
        return (Integer) map(p).get("containerPort");
      }
    }
    throw new AssertionError("no container port named " + name);
  }

  private static Path mountPath(Map<String, Object> container, String volume) {
    for (Object m : list(container.get("volumeMounts"))) {
      if (volume.equals(map(m).get("name"))) {
        return Path.of((String) map(m).get("mountPath"));
      }
    }
    throw new AssertionError("no mount of volume " + volume);
  }

  private static List<Map<String, Object>> all(String kind) {
    return objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
  }

  private static Map<String, Object> only(String kind) {
    List<Map<String, Object>> found = all(kind);
    assertEquals(1, found.size(), "one " + kind);
    return found.get(0);
  }

  private static Map<String, Object> named(String kind, String name) {
    return all(kind).stream()
        .filter(o -> name.equals(name(o)))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " named " + name));
  }

  private static String name(Map<String, Object> object) {
    return (String) map(object.get("metadata")).get("name");
  }

  // A parsed YAML mapping (string keys); only Map itself can be checked at run time.
  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertTrue(o instanceof Map, "expected a mapping: " + o);
    return (Map<String, Object>) o;
  }

  // A parsed YAML sequence; only List itself can be checked at run time.
  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    assertTrue(o instanceof List, "expected a list: " + o);
    return (List<Object>) o;
  }
}
