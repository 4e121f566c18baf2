package io.scribeledger.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code scribe}: check a Scribe Ledger node's answers without trusting the node. */
@Command(
    name = "scribe",
    mixinStandardHelpOptions = true,
    version = "scribe 0.1.0",
    description =
        "Verifies entries and audits the history of a Scribe Ledger node or its S3 archive;"
            + " restores a data directory from the archive; makes API tokens.",
    subcommands = {
      VerifyCommand.class,
      AuditCommand.class,
      RestoreCommand.class,
      TokenCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:everything verified",
      "1:a check failed (the reason is printed)",
      "2:usage error, or the node could not be reached"
    })
public final class ScribeCli {

  /** Exit code when a verification fails. */
  static final int FAILED = 1;

  /** Exit code when the node cannot be reached or the arguments are wrong. */
  static final int UNREACHABLE = 2;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code (tests call this instead of {@link #main}). */
  public static int run(String... args) {
    return new CommandLine(new ScribeCli()).execute(args);
  }

  /** Runs the CLI with its output going to {@code out} and {@code err}. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    return new CommandLine(new ScribeCli()).setOut(out).setErr(err).execute(args);
  }
}
