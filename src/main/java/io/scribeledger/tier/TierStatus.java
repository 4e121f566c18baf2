package io.scribeledger.tier;

import io.vertx.core.json.JsonObject;
import java.util.Optional;

/**
 * How far the archive lags on this node's view of the manifest: sealed segments not yet archived,
 * their bytes and the age of the oldest; segments archived and on disk; the last upload failure;
 * and why the node reports degraded, when the lag passes its bound.
 */
public record TierStatus(
    long lagSegments,
    long lagBytes,
    long oldestLagAgeMs,
    long archivedSegments,
    long localSealedSegments,
    Optional<String> lastError,
    Optional<String> degraded) {

  /** Before the first round has run. */
  public static final TierStatus UNKNOWN =
      new TierStatus(0, 0, 0, 0, 0, Optional.empty(), Optional.empty());

  /** The {@code tiering} object of /health and /cluster/status (docs/API.md). */
  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("lagSegments", lagSegments)
            .put("lagBytes", lagBytes)
            .put("oldestLagAgeMs", oldestLagAgeMs)
            .put("archivedSegments", archivedSegments)
            .put("localSealedSegments", localSealedSegments);
    lastError.ifPresent(e -> json.put("lastError", e));
    degraded.ifPresent(d -> json.put("degraded", d));
    return json;
  }
}
