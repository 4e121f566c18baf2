package io.scribeledger.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Cli;
import org.junit.jupiter.api.Test;

/** Help, version and usage errors of the {@code scribe} CLI, without a node. */
class CliUsageTest {

  @Test
  void everyCommandPrintsItsHelpAndExitsZero() {
    for (String command : new String[] {"verify", "audit"}) {
      Cli help = Cli.run(command, "--help");
      assertEquals(0, help.exitCode(), command + ": " + help.err());
      assertTrue(help.out().startsWith("Usage: scribe " + command), help.out());
      assertTrue(help.out().contains("--url=<url>"), help.out());
    }
    assertTrue(
        Cli.run("verify", "-h").out().contains("--version=<version>"),
        "verify's own --version is listed");
  }

  @Test
  void theCliPrintsItsVersion() {
    Cli version = Cli.run("--version");
    assertEquals(0, version.exitCode());
    assertEquals("scribe 0.1.0", version.out().strip());
  }

  @Test
  void missingOrMalformedArgumentsAreUsageErrors() {
    Cli missing = Cli.run("verify", "--url", "http://127.0.0.1:1");
    assertEquals(ScribeCli.UNREACHABLE, missing.exitCode());
    assertTrue(missing.err().contains("Missing required parameter: '<key>'"), missing.err());
    Cli badVersion = Cli.run("verify", "--url", "http://127.0.0.1:1", "--version", "two", "k");
    assertEquals(ScribeCli.UNREACHABLE, badVersion.exitCode());
    assertTrue(badVersion.err().contains("--version"), badVersion.err());
    Cli unknown = Cli.run("forge", "--url", "http://127.0.0.1:1");
    assertEquals(ScribeCli.UNREACHABLE, unknown.exitCode());
  }
}
