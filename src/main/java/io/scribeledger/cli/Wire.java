package io.scribeledger.cli;

import io.scribeledger.merkle.Hashes;
import io.scribeledger.verify.EntryCheck.Failed;
import io.scribeledger.verify.TreeHead;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Reads the API's JSON into the verification types; anything malformed is a failed check, not a
 * crash.
 */
final class Wire {

  private Wire() {}

  static byte[] hex(JsonObject o, String field) throws Failed {
    try {
      byte[] h = Hashes.fromHex(o.getString(field));
      if (h.length != Hashes.SIZE) {
        throw new Failed(field + " is not a 32-byte hash");
      }
      return h;
    } catch (RuntimeException e) {
      throw new Failed(field + " is missing or not hex");
    }
  }

  static long number(JsonObject o, String field) throws Failed {
    try {
      Long v = o.getLong(field);
      if (v == null) {
        throw new Failed(field + " is missing");
      }
      return v;
    } catch (ClassCastException e) {
      throw new Failed(field + " is not a number");
    }
  }

  static String string(JsonObject o, String field) throws Failed {
    Object v = o.getValue(field);
    if (!(v instanceof String s)) {
      throw new Failed(field + " is missing");
    }
    return s;
  }

  static JsonObject object(JsonObject o, String field) throws Failed {
    Object v = o.getValue(field);
    if (!(v instanceof JsonObject j)) {
      throw new Failed(field + " is missing");
    }
    return j;
  }

  static List<byte[]> hexList(JsonObject o, String field) throws Failed {
    Object v = o.getValue(field);
    if (!(v instanceof JsonArray a)) {
      throw new Failed(field + " is missing");
    }
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      out.add(
          hex(new JsonObject().put(field + "[" + i + "]", a.getValue(i)), field + "[" + i + "]"));
    }
    return out;
  }

  static byte[] base64(String value, String what) throws Failed {
    try {
      return Base64.getDecoder().decode(value.trim());
    } catch (IllegalArgumentException e) {
      throw new Failed(what + " is not base64");
    }
  }

  static TreeHead treeHead(JsonObject h) throws Failed {
    try {
      return TreeHead.fromJson(h);
    } catch (IllegalArgumentException e) {
      throw new Failed("the tree head is malformed: " + e.getMessage());
    }
  }

  /** A short fingerprint of a public key, for people to compare. */
  static String fingerprint(byte[] publicKey) {
    return Hashes.hex(Hashes.sha256(publicKey)).substring(0, 16);
  }
}
