package io.scribeledger.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * One Linux network namespace per node, made by this test and removed after it: each node has a
 * cluster link on a shared bridge (Raft traffic, which {@link #cut} and {@link #heal} take down and
 * up) and its own client link to the test JVM (HTTP, never cut), so the test can still ask a
 * cut-off node what it does. Needs root and iproute2; elsewhere the test is skipped with the
 * reason.
 */
public final class NetNamespaces implements AutoCloseable {

  private final String prefix;
  private final int subnet;
  private final int nodes;
  private final List<String> created = new ArrayList<>();

  private NetNamespaces(String prefix, int subnet, int nodes) {
    this.prefix = prefix;
    this.subnet = subnet;
    this.nodes = nodes;
  }

  /** Creates {@code nodes} namespaces on a fresh bridge, or skips the calling test. */
  public static NetNamespaces create(int nodes) throws IOException, InterruptedException {
    String probe = run("ip", "netns", "list");
    Assumptions.assumeTrue(
        probe.isEmpty() || !probe.startsWith("failed"),
        "network namespaces are not available here (root and iproute2 are needed): " + probe);
    Random random = new Random();
    NetNamespaces ns =
        new NetNamespaces(
            "sl" + Integer.toHexString(0x1000 + random.nextInt(0xefff)),
            random.nextInt(200),
            nodes);
    try {
      ns.setUp();
    } catch (IOException | RuntimeException e) {
      ns.close();
      Assumptions.abort("cannot set up network namespaces here: " + e.getMessage());
    }
    return ns;
  }

  private void setUp() throws IOException, InterruptedException {
    String bridge = prefix + "br";
    must("ip", "link", "add", bridge, "type", "bridge");
    created.add("link:" + bridge);
    must("ip", "link", "set", bridge, "up");
    for (int i = 1; i <= nodes; i++) {
      String ns = namespace(i);
      must("ip", "netns", "add", ns);
      created.add("netns:" + ns);
      must("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
      // Cluster link: on the bridge, Raft between the nodes.
      must(
          "ip", "link", "add", prefix + "c" + i, "type", "veth", "peer", "name", "c0", "netns", ns);
      must("ip", "link", "set", prefix + "c" + i, "master", bridge, "up");
      must("ip", "netns", "exec", ns, "ip", "addr", "add", clusterIp(i) + "/24", "dev", "c0");
      must("ip", "netns", "exec", ns, "ip", "link", "set", "c0", "up");
      // Client link: the test JVM to this node alone.
      must(
          "ip", "link", "add", prefix + "h" + i, "type", "veth", "peer", "name", "h0", "netns", ns);
      must(
          "ip",
          "addr",
          "add",
          "10.202." + subnet + "." + (4 * i + 1) + "/30",
          "dev",
          prefix + "h" + i);
      must("ip", "link", "set", prefix + "h" + i, "up");
      must("ip", "netns", "exec", ns, "ip", "addr", "add", clientIp(i) + "/30", "dev", "h0");
      must("ip", "netns", "exec", ns, "ip", "link", "set", "h0", "up");
    }
  }

  private String namespace(int node) {
    return prefix + "n" + node;
  }

  /** The node's address on the cluster bridge (bind Raft here). */
  public String clusterIp(int node) {
    return "10.201." + subnet + "." + (10 + node);
  }

  /** The node's address on its own link to the test JVM (bind HTTP here). */
  public String clientIp(int node) {
    return "10.202." + subnet + "." + (4 * node + 2);
  }

  /** The command prefix that runs a process inside the node's namespace. */
  public List<String> exec(int node) {
    return List.of("ip", "netns", "exec", namespace(node));
  }

  /** Takes the node's cluster link down: it can reach no other node, nor they it. */
  public void cut(int node) throws IOException, InterruptedException {
    must("ip", "link", "set", prefix + "c" + node, "down");
  }

  public void heal(int node) throws IOException, InterruptedException {
    must("ip", "link", "set", prefix + "c" + node, "up");
  }

  @Override
  public void close() throws IOException {
    // Deleting a namespace deletes the veth ends in it, and with them their peers.
    try {
      for (int i = created.size() - 1; i >= 0; i--) {
        String what = created.get(i);
        String name = what.substring(what.indexOf(':') + 1);
        if (what.startsWith("netns:")) {
          run("ip", "netns", "del", name);
        } else {
          run("ip", "link", "del", name);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void must(String... command) throws IOException, InterruptedException {
    String result = run(command);
    if (!result.isEmpty()) {
      throw new IOException(String.join(" ", command) + ": " + result);
    }
  }

  /** Runs a command; empty on success, else what went wrong. */
  private static String run(String... command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      return "failed: " + e.getMessage();
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return "failed: " + String.join(" ", command) + " did not finish";
    }
    return p.exitValue() == 0 ? "" : "failed: exit " + p.exitValue() + ": " + out;
  }
}
