package io.scribeledger.storage;

import java.util.Arrays;
import java.util.Objects;

/** Closing several stores together without leaving one open because another failed. */
public final class Closeables {

  private Closeables() {}

  /**
   * Closes every non-null one of {@code closeables}, whatever the others throw. Without {@code
   * failure}, the first failure is thrown with the later ones suppressed; with one (a failure
   * already under way, which the caller throws), every failure is added to it instead.
   */
  public static void closeAll(Exception failure, AutoCloseable... closeables) {
    RuntimeException first = null;
    for (AutoCloseable c : Arrays.stream(closeables).filter(Objects::nonNull).toList()) {
      try {
        c.close();
      } catch (Exception e) {
        if (failure != null) {
          failure.addSuppressed(e);
        } else if (first == null) {
          first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
