package io.scribeledger.config;

import io.scribeledger.ledger.EntryRules;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns the merged config (file sections plus {@code SCRIBE_*} environment overrides, as read by
 * vertx-config) into a validated {@link NodeConfig}. Fails with a {@link ConfigException} naming
 * the key.
 */
public final class ConfigResolver {

  private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  /**
   * One Raft entry at most: a batch or a single value, with room for its key and headers. Every
   * node sizes its Raft transport and log for this, whatever its own limits.
   */
  public static final long MAX_ENTRY_BYTES = EntryRules.MAX_VALUE_BYTES + 256 * 1024;

  private ConfigResolver() {}

  /** Whether {@code id} is a valid node id (letters, digits, '.', '_', '-'; 1-64). */
  public static boolean isNodeId(String id) {
    return id != null && NODE_ID.matcher(id).matches();
  }

  /** Whether {@code address} is {@code host:port} with a port in range. */
  public static boolean isHostPort(String address) {
    return address != null
        && address.matches("[^\\s:/]+:\\d{1,5}")
        && Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)) <= 65535;
  }

  /**
   * The environment variable names a node reads, for vertx-config's env store {@code keys} option.
   */
  public static JsonArray envNames() {
    JsonArray names = new JsonArray();
    ConfigSchema.KEYS.forEach(k -> names.add(k.envName()));
    return names;
  }

  public static NodeConfig resolve(JsonObject merged) {
    JsonObject effective = applyOverrides(merged);
    NodeConfig config =
        new NodeConfig(
            new NodeConfig.Node(
                id(effective, "id"), dataDir(effective), id(effective, "clusterId")),
            http(effective),
            raft(effective),
            storage(effective),
            limits(effective),
            rateLimit(effective),
            security(effective),
            tiering(effective),
            discovery(effective));
    if (!config.raft().peers().isEmpty()
        && config.raft().peers().stream().noneMatch(p -> p.id().equals(config.node().id()))) {
      throw new ConfigException(
          "raft.peers", "must include this node (node.id " + config.node().id() + ")");
    }
    // Ratis writes a larger entry into the open segment anyway (a segment may grow past its
    // size); this keeps this node's own largest entries from making every segment a one-entry one.
    long neededSegment = config.limits().maxValueBytes() + 1024 * 1024;
    if (config.raft().logSegmentSizeBytes() < neededSegment) {
      throw new ConfigException(
          "raft.logSegmentSizeBytes",
          "must hold the largest entry: at least "
              + neededSegment
              + " (limits.maxValueBytes + 1 MiB)");
    }
    if (config.http().port() == config.raft().port()) {
      throw new ConfigException(
          "raft.port", "must differ from http.port (" + config.http().port() + ")");
    }
    openToNetworkProblem(config)
        .filter(p -> !config.security().allowInsecure())
        .ifPresent(
            p -> {
              throw new ConfigException(
                  "security",
                  p
                      + ": configure tls.certFile, tls.keyFile, tls.caFile and"
                      + " security.tokensFile (docs/SECURITY.md), bind to loopback, or set"
                      + " security.allowInsecure to true to run open on a trusted network");
            });
    return config;
  }

  /**
   * Sections from the file with every {@code SCRIBE_*} variable laid over them, converted to the
   * key's type.
   */
  static JsonObject applyOverrides(JsonObject merged) {
    JsonObject out = new JsonObject();
    Map<String, ConfigKey> byEnv = new java.util.HashMap<>();
    ConfigSchema.KEYS.forEach(k -> byEnv.put(k.envName(), k));
    for (Map.Entry<String, Object> e : merged) {
      String name = e.getKey();
      if (byEnv.containsKey(name)) {
        continue;
      }
      if (!ConfigSchema.SECTIONS.contains(name)) {
        throw new ConfigException(
            name, "unknown section (known: " + String.join(", ", sortedSections()) + ")");
      }
      if (!(e.getValue() instanceof JsonObject section)) {
        throw new ConfigException(name, "must be a JSON object");
      }
      for (String key : section.fieldNames()) {
        if (ConfigSchema.find(name, key).isEmpty()) {
          throw new ConfigException(name + "." + key, "unknown key");
        }
      }
      out.put(name, section.copy());
    }
    for (Map.Entry<String, Object> e : merged) {
      ConfigKey key = byEnv.get(e.getKey());
      if (key != null && e.getValue() != null) {
        JsonObject section = out.getJsonObject(key.section());
        if (section == null) {
          section = new JsonObject();
          out.put(key.section(), section);
        }
        section.put(key.name(), fromEnv(key, String.valueOf(e.getValue())));
      }
    }
    return out;
  }

  private static List<String> sortedSections() {
    List<String> s = new ArrayList<>(ConfigSchema.SECTIONS);
    s.sort(null);
    return s;
  }

  private static Object fromEnv(ConfigKey key, String raw) {
    String where = key.envName() + " (" + key.path() + ")";
    try {
      return switch (key.type()) {
        case STRING -> raw;
        case INT -> Integer.parseInt(raw.trim());
        case LONG -> Long.parseLong(raw.trim());
        case BOOLEAN -> parseBoolean(where, raw);
        case ARRAY -> raw.isBlank() ? new JsonArray() : new JsonArray(raw);
      };
    } catch (NumberFormatException e) {
      throw new ConfigException(where, "not an integer: '" + raw + "'");
    } catch (DecodeException e) {
      throw new ConfigException(where, "not a JSON array");
    }
  }

  private static boolean parseBoolean(String where, String raw) {
    return switch (raw.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ConfigException(where, "not a boolean: '" + raw + "'");
    };
  }

  private static Object value(JsonObject cfg, String section, String name) {
    ConfigKey key = ConfigSchema.find(section, name).orElseThrow();
    JsonObject s = cfg.getJsonObject(section);
    Object v = s == null ? null : s.getValue(name);
    return v == null ? key.defaultValue() : v;
  }

  private static String string(JsonObject cfg, String section, String name) {
    Object v = value(cfg, section, name);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw new ConfigException(section + "." + name, "must be a string");
    }
    return s;
  }

  private static long number(JsonObject cfg, String section, String name, long min, long max) {
    Object v = value(cfg, section, name);
    String path = section + "." + name;
    if (!(v instanceof Number n) || n.doubleValue() != n.longValue()) {
      throw new ConfigException(path, "must be an integer, got " + v);
    }
    long l = n.longValue();
    if (l < min || l > max) {
      throw new ConfigException(path, "must be between " + min + " and " + max + ", got " + l);
    }
    return l;
  }

  /** An identifier key ({@code node.id}, {@code node.clusterId}): the node id rule. */
  private static String id(JsonObject cfg, String name) {
    String id = string(cfg, "node", name);
    if (!isNodeId(id)) {
      throw new ConfigException(
          "node." + name, "must be 1-64 characters of letters, digits, '.', '_' or '-'");
    }
    return id;
  }

  private static Path dataDir(JsonObject cfg) {
    String dir = string(cfg, "node", "dataDir");
    if (dir == null || dir.isBlank()) {
      throw new ConfigException(
          "node.dataDir", "missing: set the directory that holds this node's data");
    }
    return Path.of(dir);
  }

  private static NodeConfig.Http http(JsonObject cfg) {
    String host = string(cfg, "http", "host");
    if (host == null || host.isBlank()) {
      throw new ConfigException("http.host", "must not be empty");
    }
    return new NodeConfig.Http(
        host,
        (int) number(cfg, "http", "port", 1, 65535),
        (int) number(cfg, "http", "instances", 1, 64),
        number(cfg, "http", "readTimeoutMs", 1, 600_000),
        (int) number(cfg, "http", "maxConnections", 1, 1_000_000),
        number(cfg, "http", "idleTimeoutMs", 1000, 3_600_000),
        number(cfg, "http", "maxInFlightBytes", 1L << 20, 1L << 40));
  }

  private static NodeConfig.Raft raft(JsonObject cfg) {
    String host = string(cfg, "raft", "host");
    if (host == null || host.isBlank()) {
      throw new ConfigException("raft.host", "must not be empty");
    }
    int port = (int) number(cfg, "raft", "port", 1, 65535);
    long min = number(cfg, "raft", "electionTimeoutMinMs", 10, 60_000);
    long max = number(cfg, "raft", "electionTimeoutMaxMs", 10, 120_000);
    long heartbeat = number(cfg, "raft", "heartbeatIntervalMs", 1, 60_000);
    long request = number(cfg, "raft", "requestTimeoutMs", 100, 600_000);
    if (max < min) {
      throw new ConfigException(
          "raft.electionTimeoutMaxMs", "must not be below raft.electionTimeoutMinMs (" + min + ")");
    }
    if (heartbeat >= min) {
      throw new ConfigException(
          "raft.heartbeatIntervalMs",
          "must be below raft.electionTimeoutMinMs (" + min + "), got " + heartbeat);
    }
    return new NodeConfig.Raft(
        host,
        port,
        peers(cfg),
        min,
        max,
        heartbeat,
        request,
        number(cfg, "raft", "snapshotEveryEntries", 1, Long.MAX_VALUE),
        number(cfg, "raft", "logSegmentSizeBytes", 64 * 1024, 1L << 40),
        new NodeConfig.Batching(
            (int) number(cfg, "raft", "batchMaxEntries", 1, 100_000),
            number(cfg, "raft", "batchMaxBytes", 1024, EntryRules.MAX_VALUE_BYTES),
            (int) number(cfg, "raft", "batchMaxInFlight", 1, 64)));
  }

  private static List<NodeConfig.Peer> peers(JsonObject cfg) {
    Object v = value(cfg, "raft", "peers");
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray array)) {
      throw new ConfigException(
          "raft.peers", "must be an array of {\"id\",\"raftAddress\",\"httpAddress\"}");
    }
    List<NodeConfig.Peer> peers = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      String where = "raft.peers[" + i + "]";
      if (!(array.getValue(i) instanceof JsonObject p)) {
        throw new ConfigException(
            where, "must be an object {\"id\",\"raftAddress\",\"httpAddress\"}");
      }
      String id = p.getValue("id") instanceof String s ? s : null;
      if (id == null || !NODE_ID.matcher(id).matches()) {
        throw new ConfigException(where + ".id", "must be a node id");
      }
      if (!ids.add(id)) {
        throw new ConfigException(where + ".id", "duplicate peer id " + id);
      }
      peers.add(
          new NodeConfig.Peer(
              id,
              address(p, where + ".raftAddress", "raftAddress"),
              address(p, where + ".httpAddress", "httpAddress")));
    }
    return List.copyOf(peers);
  }

  private static String address(JsonObject p, String where, String field) {
    Object v = p.getValue(field);
    if (!(v instanceof String s) || !isHostPort(s)) {
      throw new ConfigException(where, "must be host:port, got " + v);
    }
    return s;
  }

  private static NodeConfig.Storage storage(JsonObject cfg) {
    return new NodeConfig.Storage(
        number(cfg, "storage", "segmentSizeBytes", 4096, 1L << 40),
        number(cfg, "storage", "segmentMaxAgeMs", 0, 365L * 24 * 3_600_000),
        (int) number(cfg, "storage", "commitEveryEntries", 1, 1_000_000),
        number(cfg, "storage", "commitIntervalMs", 1, 3_600_000),
        number(cfg, "storage", "minFreeBytes", 0, 1L << 50));
  }

  /**
   * Why this node would be open to its network (a listener on a non-loopback address without TLS,
   * or an HTTP API there without tokens), or empty when it is not.
   */
  public static Optional<String> openToNetworkProblem(NodeConfig config) {
    NodeConfig.Security security = config.security();
    List<String> open = new ArrayList<>();
    if (!isLoopback(config.http().host())) {
      if (security.tls().isEmpty()) {
        open.add("HTTP on " + config.http().host() + " without TLS");
      }
      if (!security.tokensRequired()) {
        open.add("HTTP on " + config.http().host() + " without API tokens");
      }
    }
    if (!isLoopback(config.raft().host()) && security.tls().isEmpty()) {
      open.add("Raft on " + config.raft().host() + " without mutual TLS");
    }
    return open.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", open));
  }

  /** Whether {@code host} names only this machine (127.0.0.0/8, ::1, localhost). */
  static boolean isLoopback(String host) {
    try {
      for (InetAddress a : InetAddress.getAllByName(host)) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static boolean bool(JsonObject cfg, String section, String name) {
    Object v = value(cfg, section, name);
    if (!(v instanceof Boolean b)) {
      throw new ConfigException(section + "." + name, "must be true or false");
    }
    return b;
  }

  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");

  private static NodeConfig.Tiering tiering(JsonObject cfg) {
    boolean enabled = bool(cfg, "tiering", "enabled");
    String bucket = string(cfg, "tiering", "bucket");
    if (enabled && (bucket == null || !BUCKET.matcher(bucket).matches())) {
      throw new ConfigException(
          "tiering.bucket",
          bucket == null
              ? "missing: name the bucket segments are archived to"
              : "not an S3 bucket name (3-63 lower-case letters, digits, '.' or '-')");
    }
    String prefix = string(cfg, "tiering", "prefix");
    if (prefix == null || !PREFIX.matcher(prefix).matches()) {
      throw new ConfigException(
          "tiering.prefix", "must be path segments of letters, digits, '.', '_' or '-'");
    }
    String keyId = string(cfg, "tiering", "accessKeyId");
    String secretFile = string(cfg, "tiering", "secretAccessKeyFile");
    if ((keyId == null) != (secretFile == null)) {
      throw new ConfigException(
          "tiering.accessKeyId",
          "tiering.accessKeyId and tiering.secretAccessKeyFile go together (or neither: the SDK's"
              + " default credential chain)");
    }
    String compression = string(cfg, "tiering", "compression");
    if (!io.scribeledger.ledger.SegmentArchived.CODECS.contains(compression)) {
      throw new ConfigException("tiering.compression", "must be gzip or none");
    }
    return new NodeConfig.Tiering(
        enabled,
        endpoint(string(cfg, "tiering", "endpoint")),
        string(cfg, "tiering", "region"),
        bucket,
        prefix,
        bool(cfg, "tiering", "pathStyle"),
        keyId == null
            ? Optional.empty()
            : Optional.of(new NodeConfig.Credentials(keyId, Path.of(secretFile))),
        compression,
        // At least the newest sealed segment stays: a node reads its last entry when it starts.
        (int) number(cfg, "tiering", "retainSegments", 1, 1_000_000),
        number(cfg, "tiering", "retainAgeMs", 0, 365L * 24 * 3_600_000),
        number(cfg, "tiering", "cacheBytes", 0, 1L << 50),
        (int) number(cfg, "tiering", "uploadConcurrency", 1, 64),
        number(cfg, "tiering", "intervalMs", 10, 3_600_000),
        // S3 refuses parts under 5 MiB (the last excepted) and above 5 GiB.
        number(cfg, "tiering", "partBytes", 5L << 20, 5L << 30),
        (int) number(cfg, "tiering", "maxLagSegments", 1, 1_000_000),
        number(cfg, "tiering", "maxLagAgeMs", 1000, 365L * 24 * 3_600_000));
  }

  private static NodeConfig.Discovery discovery(JsonObject cfg) {
    boolean enabled = bool(cfg, "discovery", "enabled");
    String host = string(cfg, "discovery", "host");
    if (host == null || host.isBlank() || host.contains(":")) {
      throw new ConfigException("discovery.host", "must be a host name or IPv4 address to bind");
    }
    String advertise = string(cfg, "discovery", "advertiseHost");
    advertise = advertise == null ? host : advertise;
    if (advertise.isBlank() || advertise.contains(":") || "0.0.0.0".equals(advertise)) {
      throw new ConfigException(
          "discovery." + (advertise.equals(host) ? "host" : "advertiseHost"),
          "must be the host name or IPv4 address other members reach this node at (it is sent in"
              + " every packet), not a wildcard: bind to 0.0.0.0 with discovery.advertiseHost set");
    }
    if ((advertise + ":65535").getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 64) {
      throw new ConfigException(
          "discovery.advertiseHost", "at most 58 bytes (host:port fits a packet's 64)");
    }
    Object rawSeeds = value(cfg, "discovery", "seeds");
    List<String> seeds = new ArrayList<>();
    if (rawSeeds != null) {
      if (!(rawSeeds instanceof JsonArray array)) {
        throw new ConfigException("discovery.seeds", "must be an array of \"host:port\"");
      }
      for (int i = 0; i < array.size(); i++) {
        if (!(array.getValue(i) instanceof String seed) || !isHostPort(seed)) {
          throw new ConfigException("discovery.seeds[" + i + "]", "must be host:port");
        }
        seeds.add(seed);
      }
    }
    String keyFile = string(cfg, "discovery", "keyFile");
    if (enabled && (keyFile == null || keyFile.isBlank())) {
      throw new ConfigException(
          "discovery.keyFile",
          "missing: every discovery packet is authenticated; name the file of shared keys"
              + " (docs/OPERATIONS.md, \"Discovery\")");
    }
    long interval = number(cfg, "discovery", "intervalMs", 50, 60_000);
    long probe = number(cfg, "discovery", "probeTimeoutMs", 10, 60_000);
    if (probe * 2 >= interval) {
      throw new ConfigException(
          "discovery.probeTimeoutMs",
          "must be below half of discovery.intervalMs (a direct and an indirect probe fit in a"
              + " round)");
    }
    long suspicionMin = number(cfg, "discovery", "suspicionMinMs", 100, 3_600_000);
    long suspicionMax = number(cfg, "discovery", "suspicionMaxMs", 100, 3_600_000);
    if (suspicionMax < suspicionMin) {
      throw new ConfigException(
          "discovery.suspicionMaxMs", "must be at least discovery.suspicionMinMs");
    }
    return new NodeConfig.Discovery(
        enabled,
        host,
        advertise,
        (int) number(cfg, "discovery", "port", 1, 65535),
        List.copyOf(seeds),
        Optional.ofNullable(keyFile).filter(k -> !k.isBlank()).map(Path::of),
        interval,
        probe,
        (int) number(cfg, "discovery", "indirectProbes", 0, 16),
        suspicionMin,
        suspicionMax,
        number(cfg, "discovery", "maxClockSkewMs", 1000, 3_600_000),
        bool(cfg, "discovery", "autoJoin"),
        number(cfg, "discovery", "autoJoinAfterMs", 0, 3_600_000));
  }

  private static Optional<java.net.URI> endpoint(String raw) {
    if (raw == null) {
      return Optional.empty();
    }
    try {
      java.net.URI uri = new java.net.URI(raw);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          || uri.getHost() == null) {
        throw new ConfigException("tiering.endpoint", "must be an http:// or https:// URL");
      }
      return Optional.of(uri);
    } catch (java.net.URISyntaxException e) {
      throw new ConfigException("tiering.endpoint", "not a URL: " + e.getMessage());
    }
  }

  private static NodeConfig.Security security(JsonObject cfg) {
    String cert = string(cfg, "tls", "certFile");
    String key = string(cfg, "tls", "keyFile");
    String ca = string(cfg, "tls", "caFile");
    Optional<NodeConfig.Tls> tls = Optional.empty();
    if (cert != null || key != null || ca != null) {
      tls =
          Optional.of(
              new NodeConfig.Tls(
                  readableFile(cert, "tls.certFile"),
                  readableFile(key, "tls.keyFile"),
                  readableFile(ca, "tls.caFile")));
    }
    String tokens = string(cfg, "security", "tokensFile");
    return new NodeConfig.Security(
        tls,
        Optional.ofNullable(tokens).map(t -> readableFile(t, "security.tokensFile")),
        bool(cfg, "security", "allowInsecure"),
        Optional.ofNullable(string(cfg, "security", "signingKeyFile"))
            .map(k -> readableFile(k, "security.signingKeyFile")));
  }

  private static Path readableFile(String file, String key) {
    if (file == null || file.isBlank()) {
      throw new ConfigException(
          key,
          key.startsWith("tls.")
              ? "missing: tls.certFile, tls.keyFile and tls.caFile go together"
              : "must name a file");
    }
    return Path.of(file);
  }

  /**
   * Checks that every file the security settings name can be read, when the node starts (not when
   * the config is resolved: a manifest's paths exist only inside its pod). Blocking.
   */
  public static void checkSecurityFiles(NodeConfig.Security security) {
    List<Map.Entry<String, Path>> files = new ArrayList<>();
    security
        .tls()
        .ifPresent(
            t -> {
              files.add(Map.entry("tls.certFile", t.certFile()));
              files.add(Map.entry("tls.keyFile", t.keyFile()));
              files.add(Map.entry("tls.caFile", t.caFile()));
            });
    security.tokensFile().ifPresent(f -> files.add(Map.entry("security.tokensFile", f)));
    security.signingKeyFile().ifPresent(f -> files.add(Map.entry("security.signingKeyFile", f)));
    for (Map.Entry<String, Path> f : files) {
      if (!Files.isRegularFile(f.getValue()) || !Files.isReadable(f.getValue())) {
        throw new ConfigException(f.getKey(), "not a readable file: " + f.getValue());
      }
    }
  }

  /** Rates a node on a network address gets when its config sets none (0 still turns one off). */
  static final long NETWORK_REQUESTS_PER_SECOND = 2000;

  static final long NETWORK_BYTES_PER_SECOND = 64L << 20;

  private static NodeConfig.RateLimit rateLimit(JsonObject cfg) {
    boolean network = !isLoopback(string(cfg, "http", "host"));
    long requests =
        network && !present(cfg, "rateLimit", "requestsPerSecond")
            ? NETWORK_REQUESTS_PER_SECOND
            : number(cfg, "rateLimit", "requestsPerSecond", 0, 10_000_000);
    long burst = number(cfg, "rateLimit", "burstRequests", 0, 100_000_000);
    long bytes =
        network && !present(cfg, "rateLimit", "bytesPerSecond")
            ? NETWORK_BYTES_PER_SECOND
            : number(cfg, "rateLimit", "bytesPerSecond", 0, 1L << 40);
    return new NodeConfig.RateLimit(
        requests, burst == 0 ? 2 * requests : Math.max(burst, 1), bytes);
  }

  private static boolean present(JsonObject cfg, String section, String name) {
    return cfg.getValue(section) instanceof JsonObject s && s.getValue(name) != null;
  }

  private static NodeConfig.Limits limits(JsonObject cfg) {
    return new NodeConfig.Limits(
        (int) number(cfg, "limits", "maxKeyBytes", 1, 1024),
        number(cfg, "limits", "maxValueBytes", 0, EntryRules.MAX_VALUE_BYTES),
        (int) number(cfg, "limits", "maxContentTypeBytes", 1, EntryRules.MAX_CONTENT_TYPE_BYTES));
  }
}
