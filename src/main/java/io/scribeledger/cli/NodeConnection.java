package io.scribeledger.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every command that talks to a node shares: the {@code --url} option and the command's output
 * streams.
 */
final class NodeConnection {

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--url",
      required = true,
      description = "node base URL, e.g. http://127.0.0.1:8080")
  String url;

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  LedgerHttp http() {
    return new LedgerHttp(url);
  }
}
