package io.scribeledger.support;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged jar run as a separate OS process, as an operator runs it. */
public final class JarProcess implements AutoCloseable {

  private final Process process;
  private final Path stdout;
  private final Path stderr;

  private JarProcess(Process process, Path stdout, Path stderr) {
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** The jar failsafe passes in ({@code scribe.jar}), falling back to the default build output. */
  public static Path jar() {
    Path jar = Path.of(System.getProperty("scribe.jar", "target/scribe-ledger.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: run 'mvn package' first");
    }
    return jar;
  }

  /**
   * Starts {@code java -jar scribe-ledger.jar -conf <config>} in {@code workDir} with extra
   * environment.
   */
  public static JarProcess start(Path workDir, JsonObject config, Map<String, String> env) {
    return start(workDir, config, env, List.of());
  }

  /**
   * As above, with {@code prefix} before the java command (e.g. {@code ip netns exec NS} to run the
   * node inside a network namespace).
   */
  public static JarProcess start(
      Path workDir, JsonObject config, Map<String, String> env, List<String> prefix) {
    try {
      Files.createDirectories(workDir);
      Path conf = Files.createTempFile(workDir, "node-", ".json");
      Files.writeString(conf, config.encodePrettily());
      Path out = Files.createTempFile(workDir, "stdout-", ".log");
      Path err = Files.createTempFile(workDir, "stderr-", ".log");
      List<String> cmd = new ArrayList<>(prefix);
      cmd.addAll(
          List.of(
              Path.of(System.getProperty("java.home"), "bin", "java").toString(),
              "-Xmx512m",
              "-jar",
              jar().toAbsolutePath().toString(),
              "-conf",
              conf.toString()));
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .directory(workDir.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile());
      pb.environment().keySet().removeIf(k -> k.startsWith("SCRIBE_"));
      pb.environment().putAll(env);
      return new JarProcess(pb.start(), out, err);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits for the process to exit by itself and returns its exit code. */
  public int awaitExit(long timeoutMs) throws InterruptedException {
    if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(
          "process still running after " + timeoutMs + " ms; stderr: " + stderr());
    }
    return process.exitValue();
  }

  /** Sends a signal by name ({@code STOP}, {@code CONT}) to the process, if it still runs. */
  public void signal(String name) throws IOException, InterruptedException {
    if (process.isAlive()) {
      Process kill =
          new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
              .redirectErrorStream(true)
              .start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
      }
    }
  }

  /**
   * Lowers the CPU priority of every thread of the process to {@code nice} (Linux: {@code renice}
   * reaches one thread at a time; threads started later inherit it from the thread that starts
   * them). Returns whether every thread now runs at that level or lower: false where it cannot be
   * done (no {@code /proc}, no {@code renice}, refused) or a thread escaped it. Raising a nice
   * level needs no privilege.
   */
  public boolean renice(int nice) throws InterruptedException {
    Path tasks = Path.of("/proc", Long.toString(process.pid()), "task");
    try {
      List<String> cmd = new ArrayList<>(List.of("renice", "-n", Integer.toString(nice), "-p"));
      cmd.addAll(threadIds(tasks));
      Process renice =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      try {
        if (!renice.waitFor(10, TimeUnit.SECONDS)) {
          return false;
        }
      } finally {
        renice.destroyForcibly(); // a no-op once it exited
      }
      // Its exit code also counts threads that ended since the listing: read the levels instead.
      for (String tid : threadIds(tasks)) {
        String stat;
        try {
          stat = Files.readString(tasks.resolve(tid).resolve("stat"));
        } catch (NoSuchFileException ended) {
          continue;
        }
        // After the command name in parentheses (which may hold spaces), nice is the 17th field.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
        if (Integer.parseInt(fields[16]) < nice) {
          return false;
        }
      }
      return process.isAlive();
    } catch (IOException | UncheckedIOException e) {
      return false;
    }
  }

  private static List<String> threadIds(Path tasks) throws IOException {
    try (var threads = Files.list(tasks)) {
      return threads.map(t -> t.getFileName().toString()).toList();
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL: no shutdown hook, no flush, no close. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  public String stdout() {
    return read(stdout);
  }

  public String stderr() {
    return read(stderr);
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return "<unreadable: " + e.getMessage() + ">";
    }
  }

  /** SIGTERM, then SIGKILL if the node does not stop within 20 s. */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
          kill();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
