package io.scribeledger.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.scribeledger.support.Rfc6962Vectors;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every RFC 6962 vector shipped with the tests: accepted when wantErr is false, rejected when it is
 * true.
 */
class Rfc6962VectorsTest {

  static final Path VECTORS = Rfc6962Vectors.dir();

  static Stream<Path> files(String kind) throws IOException {
    List<Path> all;
    try (Stream<Path> walk = Files.walk(VECTORS.resolve(kind))) {
      all = walk.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    if (all.size() < 50) {
      throw new IllegalStateException(
          "expected the RFC 6962 " + kind + " vectors, found " + all.size());
    }
    return all.stream();
  }

  static Stream<Path> inclusion() throws IOException {
    return files("inclusion");
  }

  static Stream<Path> consistency() throws IOException {
    return files("consistency");
  }

  static JsonObject read(Path p) {
    try {
      return new JsonObject(Files.readString(p));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] b64(JsonObject o, String field) {
    String s = o.getString(field);
    return s == null ? null : Base64.getDecoder().decode(s);
  }

  static List<byte[]> proof(JsonObject o) {
    List<byte[]> out = new ArrayList<>();
    JsonArray a = o.getJsonArray("proof");
    if (a != null) {
      for (int i = 0; i < a.size(); i++) {
        out.add(Base64.getDecoder().decode(a.getString(i)));
      }
    }
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inclusion")
  void inclusionVector(Path file) {
    JsonObject v = read(file);
    boolean ok =
        MerkleVerifier.verifyInclusion(
            v.getLong("leafIdx"),
            v.getLong("treeSize"),
            b64(v, "leafHash"),
            proof(v),
            b64(v, "root"));
    assertEquals(!v.getBoolean("wantErr"), ok, v.getString("desc"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("consistency")
  void consistencyVector(Path file) {
    JsonObject v = read(file);
    boolean ok =
        MerkleVerifier.verifyConsistency(
            v.getLong("size1"), v.getLong("size2"), b64(v, "root1"), b64(v, "root2"), proof(v));
    assertEquals(!v.getBoolean("wantErr"), ok, v.getString("desc"));
  }
}
