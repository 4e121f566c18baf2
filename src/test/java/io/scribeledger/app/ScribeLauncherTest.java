package io.scribeledger.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The start-up failure line names what failed, also when the exception has no message. */
class ScribeLauncherTest {

  @Test
  void aFailureWithoutAMessageIsNamedByItsClassAndPlace() {
    assertEquals("timed out", ScribeLauncher.describe(null));
    assertEquals("disk full", ScribeLauncher.describe(new IllegalStateException("disk full")));
    String line = ScribeLauncher.describe(new IndexOutOfBoundsException());
    assertTrue(
        line.startsWith("java.lang.IndexOutOfBoundsException at " + getClass().getName()), line);
  }
}
