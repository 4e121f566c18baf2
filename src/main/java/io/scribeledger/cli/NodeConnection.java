package io.scribeledger.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every command that talks to a node shares: where it is, how to trust it and prove who is
 * asking, and the command's output streams.
 */
final class NodeConnection {

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--url",
      description = "node base URL, e.g. http://127.0.0.1:8080 or https://node:8443")
  String url;

  @Option(
      names = "--cacert",
      description =
          "PEM file of the CA that signed the node's HTTPS certificate (default: the JVM's"
              + " trusted CAs)")
  Path caCert;

  @Option(
      names = "--token-file",
      description =
          "file holding the bearer token to send (default: the SCRIBE_TOKEN environment variable;"
              + " a token is never taken on the command line, where ps would show it)")
  Path tokenFile;

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  LedgerHttp http() throws LedgerHttp.Unreachable {
    if (url == null) {
      // Not required by the parser: `audit --archive` needs no node.
      throw new LedgerHttp.Unreachable("--url is required: the node to ask");
    }
    try {
      String token =
          tokenFile != null
              ? Files.readString(tokenFile, StandardCharsets.UTF_8).trim()
              : System.getenv("SCRIBE_TOKEN");
      SSLContext ssl = caCert == null ? null : CaTrust.sslContext(caCert);
      return new LedgerHttp(url, ssl, token == null || token.isEmpty() ? null : token);
    } catch (IOException | GeneralSecurityException e) {
      throw new LedgerHttp.Unreachable("cannot set up the connection: " + e.getMessage());
    }
  }
}
