package io.scribeledger.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real small file system (tmpfs) mounted on a directory, for disk-full tests: the kernel, not a
 * fake, answers ENOSPC. Needs root (CI here runs as root); elsewhere the test is skipped with the
 * reason.
 */
public final class Tmpfs implements AutoCloseable {

  private final Path dir;

  private Tmpfs(Path dir) {
    this.dir = dir;
  }

  /** Mounts a tmpfs of {@code bytes} on {@code dir} (created), or skips the calling test. */
  public static Tmpfs mount(Path dir, long bytes) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    String result = run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", dir.toString());
    Assumptions.assumeTrue(
        result.isEmpty(), "cannot mount a tmpfs here (root and mount(8) are needed): " + result);
    return new Tmpfs(dir);
  }

  /** Grows or shrinks the file system in place, as an operator freeing space would. */
  public void resize(long bytes) throws IOException, InterruptedException {
    String result = run("mount", "-o", "remount,size=" + bytes, dir.toString());
    if (!result.isEmpty()) {
      throw new IllegalStateException("cannot resize the tmpfs on " + dir + ": " + result);
    }
  }

  @Override
  public void close() throws IOException {
    String result;
    try {
      result = run("umount", "-l", dir.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      result = "interrupted";
    }
    if (!result.isEmpty()) {
      throw new IllegalStateException("cannot unmount the tmpfs on " + dir + ": " + result);
    }
  }

  /** Runs a command; empty on success, else what went wrong. */
  private static String run(String... command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
    } catch (IOException e) {
      return e.getMessage();
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return String.join(" ", command) + " did not finish";
    }
    return p.exitValue() == 0 ? "" : "exit " + p.exitValue() + ": " + out;
  }
}
