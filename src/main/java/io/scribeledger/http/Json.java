package io.scribeledger.http;

import io.scribeledger.ledger.EntryRecord;
import io.scribeledger.ledger.Receipt;
import io.scribeledger.ledger.SegmentArchived;
import io.scribeledger.ledger.SegmentInfo;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.tier.ArchiveManifest;
import io.scribeledger.verify.TreeHead;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/** The JSON shapes of API.md: receipts, history versions, and sending a JSON body. */
public final class Json {

  private Json() {}

  public static void send(RoutingContext ctx, int status, JsonObject body) {
    ctx.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(body.encode());
  }

  public static JsonObject receipt(Receipt r) {
    return new JsonObject()
        .put("key", r.key())
        .put("op", r.op().name())
        .put("version", r.version())
        .put("index", r.index())
        .put("timestamp", r.timestamp())
        .put("valueSha256", Hashes.hex(r.valueSha256()))
        .put("leafHash", Hashes.hex(r.leafHash()))
        .put("treeSize", r.treeSize())
        .put("rootHash", Hashes.hex(r.rootHash()));
  }

  /**
   * An entry as {@code /ledger/entries} and {@code /verify} show it: every field of its canonical
   * form.
   */
  public static JsonObject entry(EntryRecord r) {
    return new JsonObject()
        .put("index", r.index())
        .put("timestamp", r.timestamp())
        .put("op", r.op().name())
        .put("key", r.key())
        .put("version", r.version())
        .put("contentType", r.contentType())
        .put("valueSha256", Hashes.hex(r.valueSha256()))
        .put("leafHash", Hashes.hex(r.leafHash()));
  }

  public static JsonObject treeHead(TreeHead h) {
    return h.toJson();
  }

  /**
   * A sealed segment of {@code /segments}: {@code tier} is {@code archived} once the manifest holds
   * its archived copy ({@code object}), {@code local} before; {@code onThisNode} says whether its
   * file is on this node's disk (an evicted one is read back from the archive).
   */
  public static JsonObject segment(
      SegmentInfo s, java.util.Optional<SegmentArchived> archived, boolean onThisNode) {
    JsonObject json =
        ArchiveManifest.segmentJson(s)
            .put("tier", archived.isPresent() ? "archived" : "local")
            .put("objectKey", archived.map(SegmentArchived::objectKey).orElse(null))
            .put("onThisNode", onThisNode);
    archived.ifPresent(a -> json.put("object", ArchiveManifest.objectJson(a)));
    return json;
  }

  public static JsonArray hexList(List<byte[]> hashes) {
    JsonArray out = new JsonArray();
    hashes.forEach(h -> out.add(Hashes.hex(h)));
    return out;
  }

  public static JsonObject version(EntryRecord r) {
    return new JsonObject()
        .put("version", r.version())
        .put("index", r.index())
        .put("op", r.op().name())
        .put("timestamp", r.timestamp())
        .put("contentType", r.contentType())
        .put("size", r.size())
        .put("valueSha256", Hashes.hex(r.valueSha256()))
        .put("leafHash", Hashes.hex(r.leafHash()));
  }
}
