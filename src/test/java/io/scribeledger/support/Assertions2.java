package io.scribeledger.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

/** Assertions on API.md's error shape. */
public final class Assertions2 {
  private Assertions2() {}

  /**
   * The response is the JSON error {@code code} with HTTP {@code status}, a message and a request
   * id.
   */
  public static JsonObject assertError(HttpResponse<Buffer> r, int status, String code) {
    assertEquals(status, r.statusCode(), () -> "body: " + r.bodyAsString());
    assertTrue(
        r.getHeader("Content-Type").startsWith("application/json"), r.getHeader("Content-Type"));
    JsonObject body = r.bodyAsJsonObject();
    assertEquals(code, body.getString("error"), body::encode);
    assertNotNull(body.getString("message"));
    assertNotNull(r.getHeader("X-Request-Id"));
    if (status == 503) {
      assertNotNull(r.getHeader("Retry-After"), "503 carries Retry-After");
    }
    return body;
  }
}
