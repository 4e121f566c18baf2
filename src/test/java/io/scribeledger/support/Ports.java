package io.scribeledger.support;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free loopback ports for test nodes, each handed out at most once per JVM.
 *
 * <p>Why not {@code new ServerSocket(0)}: the kernel picks such a port from the ephemeral range,
 * where it may hand the same port out again before the node binds it (CI once gave one node the
 * same HTTP and Raft port), or give it to an outgoing connection (gRPC between nodes) meanwhile.
 * Ports here come from below the ephemeral range (Linux default 32768+) and from a counter, so no
 * two calls in one JVM return the same port, and a client socket never takes one.
 */
public final class Ports {
  private static final int FIRST = 12_000;
  private static final int LAST = 32_000;
  // One counter per JVM: the only way to keep ports unique across tests that allocate separately.
  // A random start keeps two test JVMs (surefire, failsafe, a developer's second run) apart.
  private static final AtomicInteger NEXT =
      new AtomicInteger(FIRST + ThreadLocalRandom.current().nextInt(LAST - FIRST));

  private Ports() {}

  public static int free() {
    for (int attempt = 0; attempt < LAST - FIRST; attempt++) {
      int port = FIRST + Math.floorMod(NEXT.getAndIncrement() - FIRST, LAST - FIRST);
      if (bindable(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port in " + FIRST + ".." + LAST);
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
