package io.scribeledger.app;

import io.scribeledger.config.ConfigException;
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
  public static MicrometerMetricsOptions metricsOptions() {
    return new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .setPrometheusOptions(
            new VertxPrometheusOptions().setEnabled(true).setPublishQuantiles(true));
  }

  private static final class Hooks implements VertxApplicationHooks {
    @Override
    public void beforeStartingVertx(HookContext context) {
      context.vertxOptions().setMetricsOptions(metricsOptions());
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
      System.err.println(
          "scribe-ledger: failed to start: " + (t == null ? "timed out" : t.getMessage()));
      System.exit(EXIT_START);
    }
  }
}
