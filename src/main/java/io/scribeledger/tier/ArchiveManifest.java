package io.scribeledger.tier;

import io.scribeledger.ledger.SegmentArchived;
import io.scribeledger.ledger.SegmentInfo;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.verify.TreeHead;
import io.vertx.core.json.JsonObject;

/**
 * The small object the leader writes beside each archived segment: the segment as the manifest
 * records it, its object, and a tree head signed at the segment's last entry. Together they let a
 * ledger be rebuilt and audited from the bucket alone (docs/TIERING.md, "The bucket").
 */
public record ArchiveManifest(SegmentInfo segment, SegmentArchived object, TreeHead head) {

  /** Version of this object's JSON form. */
  public static final int VERSION = 1;

  public JsonObject toJson() {
    return new JsonObject()
        .put("version", VERSION)
        .put("segment", segmentJson(segment))
        .put("object", objectJson(object))
        .put("head", head.toJson());
  }

  /** A sealed segment as the manifest records it (also the base of {@code /segments}' items). */
  public static JsonObject segmentJson(SegmentInfo segment) {
    return new JsonObject()
        .put("id", segment.id())
        .put("firstIndex", segment.firstIndex())
        .put("lastIndex", segment.lastIndex())
        .put("merkleRoot", Hashes.hex(segment.merkleRoot()))
        .put("sizeBytes", segment.sizeBytes())
        .put("createdAt", segment.createdAt());
  }

  /** A segment's archived object: key, SHA-256, size and codec. */
  public static JsonObject objectJson(SegmentArchived object) {
    return new JsonObject()
        .put("key", object.objectKey())
        .put("sha256", Hashes.hex(object.objectSha256()))
        .put("size", object.objectSize())
        .put("codec", object.codec());
  }

  /** Reads {@link #toJson}'s form; IllegalArgumentException naming what is wrong. */
  public static ArchiveManifest fromJson(JsonObject json) {
    try {
      if (json.getInteger("version", 0) != VERSION) {
        throw new IllegalArgumentException("unknown manifest version " + json.getValue("version"));
      }
      JsonObject s = json.getJsonObject("segment");
      JsonObject o = json.getJsonObject("object");
      SegmentInfo segment =
          new SegmentInfo(
              s.getLong("id"),
              s.getLong("firstIndex"),
              s.getLong("lastIndex"),
              hash(s.getString("merkleRoot")),
              s.getLong("sizeBytes"),
              s.getLong("createdAt"));
      SegmentArchived object =
          new SegmentArchived(
              segment.id(),
              o.getString("key"),
              hash(o.getString("sha256")),
              o.getLong("size"),
              o.getString("codec"));
      object
          .problem()
          .ifPresent(
              p -> {
                throw new IllegalArgumentException(p);
              });
      return new ArchiveManifest(segment, object, TreeHead.fromJson(json.getJsonObject("head")));
    } catch (ClassCastException | NullPointerException e) {
      throw new IllegalArgumentException("a field is missing or of the wrong type", e);
    }
  }

  private static byte[] hash(String hex) {
    byte[] h = Hashes.fromHex(hex);
    if (h.length != Hashes.SIZE) {
      throw new IllegalArgumentException("not a 32-byte hash: " + hex);
    }
    return h;
  }
}
