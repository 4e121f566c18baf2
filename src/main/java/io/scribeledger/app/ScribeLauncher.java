package io.scribeledger.app;

import io.scribeledger.config.ConfigException;
import io.scribeledger.error.Failures;
import io.scribeledger.service.LedgerVerticle;
import io.vertx.launcher.application.HookContext;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Entry point of the jar: the Vert.x launcher with Micrometer/Prometheus metrics switched on, and
 * start-up failures reported as one line on stderr with a non-zero exit code instead of a stack
 * trace.
 */
public final class ScribeLauncher extends VertxApplication {

  /** Exit code for an invalid configuration. */
  public static final int EXIT_CONFIG = 2;

  /** Exit code for any other failure to start. */
  public static final int EXIT_START = 1;

  /** Exit code after a fail-stop (an entry or checkpoint that could not be written). */
  public static final int EXIT_FAILED = 3;

  /** How long an orderly exit after a fail-stop may take before the process is halted. */
  private static final long EXIT_GRACE_MS = 15_000;

  public ScribeLauncher(String[] args) {
    super(args, new Hooks());
  }

  public static void main(String[] args) {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    int code = new ScribeLauncher(args).launch();
    if (code != 0) {
      System.exit(code);
    }
  }

  /** The metrics every node runs with; tests build their Vert.x instances with the same options. */
  /**
   * Exits with {@link #EXIT_FAILED}: the shutdown hooks close the node (which commits nothing
   * more), and a node whose close hangs — a full disk can wedge a memory-mapped store — is halted.
   */
  private static void exitFailed() {
    Thread exit =
        new Thread(
            () -> {
              Thread halt =
                  new Thread(
                      () -> {
                        try {
                          Thread.sleep(EXIT_GRACE_MS);
                        } catch (InterruptedException e) {
                          return;
                        }
                        Runtime.getRuntime().halt(EXIT_FAILED);
                      },
                      "scribe-exit-deadline");
              halt.setDaemon(true);
              halt.start();
              System.exit(EXIT_FAILED);
            },
            "scribe-exit");
    exit.start();
  }

  public static MicrometerMetricsOptions metricsOptions() {
    return new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .setPrometheusOptions(
            new VertxPrometheusOptions().setEnabled(true).setPublishQuantiles(true));
  }

  /** One line for an operator; a start-up that never finished has no failure to describe. */
  static String describe(Throwable t) {
    return t == null ? "timed out" : Failures.describe(t);
  }

  private static final class Hooks implements VertxApplicationHooks {
    @Override
    public void beforeStartingVertx(HookContext context) {
      context.vertxOptions().setMetricsOptions(metricsOptions());
    }

    /** Before the node deploys, so that a failure while it replays its log is heard too. */
    @Override
    public void afterVertxStarted(HookContext context) {
      context.vertx().eventBus().consumer(LedgerVerticle.FAILED_ADDRESS, message -> exitFailed());
    }

    @Override
    public void afterFailureToDeployVerticle(HookContext context, Throwable t) {
      Throwable cause = t;
      while (cause != null && !(cause instanceof ConfigException) && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof ConfigException config) {
        System.err.println("scribe-ledger: invalid configuration: " + config.getMessage());
        System.exit(EXIT_CONFIG);
      }
      System.err.println("scribe-ledger: failed to start: " + describe(t));
      System.exit(EXIT_START);
    }
  }
}
