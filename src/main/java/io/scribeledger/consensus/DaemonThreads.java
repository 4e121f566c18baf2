package io.scribeledger.consensus;

import java.util.concurrent.ThreadFactory;

/** Named daemon threads for the node's single-thread executors. */
final class DaemonThreads {

  private DaemonThreads() {}

  /** Makes the one daemon thread of a single-thread executor, named {@code name}. */
  static ThreadFactory named(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
