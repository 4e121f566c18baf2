package io.scribeledger.http;

import io.scribeledger.ledger.EntryRecord;
import io.scribeledger.ledger.Receipt;
import io.scribeledger.merkle.Hashes;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** The JSON shapes of API.md: receipts, history versions, and sending a JSON body. */
public final class Json {

  private Json() {
  }

  public static void send(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
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
