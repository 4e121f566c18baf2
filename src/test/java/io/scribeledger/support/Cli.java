package io.scribeledger.support;

import io.scribeledger.cli.ScribeCli;
import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the {@code scribe} CLI in this JVM and keeps what it printed. */
public record Cli(int exitCode, String out, String err) {

  public static Cli run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ScribeCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Cli(code, out.toString(), err.toString());
  }
}
