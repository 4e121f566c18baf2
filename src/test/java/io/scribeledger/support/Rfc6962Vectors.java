package io.scribeledger.support;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/**
 * The RFC 6962 / RFC 9162 test vectors that ship with the tests ({@code
 * src/test/resources/vectors/rfc6962}, Apache-2.0, from the transparency-dev/merkle project; see
 * its README and LICENSE there).
 */
public final class Rfc6962Vectors {

  private Rfc6962Vectors() {}

  /** The vectors' directory on the test classpath. */
  public static Path dir() {
    URL url = Rfc6962Vectors.class.getResource("/vectors/rfc6962/tree.json");
    if (url == null) {
      throw new IllegalStateException("the RFC 6962 vectors are missing from the test classpath");
    }
    try {
      return Path.of(url.toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
