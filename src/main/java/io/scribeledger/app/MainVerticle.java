package io.scribeledger.app;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.scribeledger.auth.AuditLog;
import io.scribeledger.auth.TokenStore;
import io.scribeledger.config.ConfigException;
import io.scribeledger.config.ConfigResolver;
import io.scribeledger.config.NodeConfig;
import io.scribeledger.discovery.DiscoveryVerticle;
import io.scribeledger.http.Admission;
import io.scribeledger.http.HttpVerticle;
import io.scribeledger.http.RateLimits;
import io.scribeledger.ledger.ColdTier;
import io.scribeledger.service.LedgerVerticle;
import io.scribeledger.service.LocalCodec;
import io.scribeledger.tier.S3Archive;
import io.scribeledger.tier.TierVerticle;
import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and validates the configuration (the launcher's {@code -conf} JSON with {@code SCRIBE_*}
 * environment overrides), then deploys the ledger verticle and the HTTP verticles.
 */
public final class MainVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(MainVerticle.class);

  /** The S3 archive when tiering is on; closed once the verticles using it have stopped. */
  private Optional<S3Archive> archive = Optional.empty();

  @Override
  public Future<?> stop() {
    Optional<S3Archive> open = archive;
    return open.isEmpty()
        ? Future.succeededFuture()
        : vertx.executeBlocking(
            () -> {
              open.get().close();
              return null;
            });
  }

  @Override
  public Future<?> start() {
    ConfigRetrieverOptions options =
        new ConfigRetrieverOptions()
            .setScanPeriod(0)
            .addStore(new ConfigStoreOptions().setType("json").setConfig(config()))
            .addStore(
                new ConfigStoreOptions()
                    .setType("env")
                    .setConfig(
                        new JsonObject()
                            .put("keys", ConfigResolver.envNames())
                            .put("raw-data", true)));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    return retriever
        .getConfig()
        .eventually(retriever::close)
        .map(ConfigResolver::resolve)
        .compose(this::deploy);
  }

  private Future<?> deploy(NodeConfig config) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    MeterRegistry metrics =
        registry != null ? registry : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try {
      vertx.eventBus().registerCodec(new LocalCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // A redeploy on the same Vert.x instance keeps the codec it registered before.
    }
    Admission admission = new Admission(config.http());
    admission.registerGauges(metrics, config.node().id());
    RateLimits rates = new RateLimits(config.rateLimit(), config.limits().maxValueBytes());
    announceSecurity(config);
    Future<Optional<TokenStore>> tokens =
        vertx.executeBlocking(
            () -> {
              ConfigResolver.checkSecurityFiles(config.security());
              if (config.security().tokensFile().isEmpty()) {
                return Optional.empty();
              }
              Path file = config.security().tokensFile().get();
              try {
                return Optional.of(TokenStore.load(file));
              } catch (IllegalArgumentException | IOException e) {
                throw new ConfigException("security.tokensFile", e.getMessage());
              }
            });
    // The S3 client is built on a worker: it reads the secret file, and the default credential
    // chain may look around the machine.
    Future<Optional<S3Archive>> tier =
        config.tiering().enabled()
            ? vertx.executeBlocking(() -> Optional.of(S3Archive.open(config.tiering())))
            : Future.succeededFuture(Optional.empty());
    return tokens.compose(
        store ->
            tier.compose(
                    archive -> {
                      this.archive = archive;
                      return vertx.deployVerticle(
                          new LedgerVerticle(config, metrics, archive.map(ColdTier.class::cast)));
                    })
                .compose(
                    id ->
                        archive.isEmpty()
                            ? Future.succeededFuture(id)
                            : vertx.deployVerticle(
                                new TierVerticle(config, metrics, archive.get())))
                .compose(
                    id ->
                        config.discovery().enabled()
                            ? vertx.deployVerticle(new DiscoveryVerticle(config, metrics))
                            : Future.succeededFuture(id))
                .compose(
                    id ->
                        vertx.deployVerticle(
                            () -> new HttpVerticle(config, metrics, admission, store, rates),
                            new DeploymentOptions().setInstances(config.http().instances())))
                .onSuccess(
                    id ->
                        LOG.info(
                            "Scribe Ledger node {} serving HTTP on {}:{}, Raft on {}, data in {}",
                            config.node().id(),
                            config.http().host(),
                            config.http().port(),
                            config.raftAddress(),
                            config.node().dataDir().toAbsolutePath())));
  }

  /**
   * One audit line with the security settings (never a secret), and a WARN when the operator chose
   * to run open on a network address.
   */
  private static void announceSecurity(NodeConfig config) {
    NodeConfig.Security s = config.security();
    Optional<String> open = ConfigResolver.openToNetworkProblem(config);
    open.ifPresent(
        p ->
            LOG.warn(
                "security.allowInsecure is set: this node runs open to its network ({}); anyone"
                    + " who reaches it can read, write and change the cluster",
                p));
    AuditLog.record(
        new AuditLog.Event(
            "config",
            "node " + config.node().id(),
            null,
            null,
            null,
            open.isPresent() ? "insecure" : "ok",
            "tls="
                + (s.tls().isPresent() ? "on" : "off")
                + " tokens="
                + (s.tokensRequired() ? "required" : "off")
                + " http="
                + config.http().host()
                + ":"
                + config.http().port()
                + " raft="
                + config.raftAddress()));
  }
}
