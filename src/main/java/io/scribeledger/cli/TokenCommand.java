package io.scribeledger.cli;

import io.scribeledger.auth.Role;
import io.scribeledger.auth.TokenStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code scribe token}: makes a new API token, printing the token once (for the caller) and the
 * entry for the node's tokens file (its SHA-256 only, for the operator).
 */
@Command(
    name = "token",
    mixinStandardHelpOptions = true,
    description =
        "Makes a new API token. Prints the token on the first line (give it to the caller; it is"
            + " not stored anywhere) and, on the second, the entry to add to the \"tokens\" array of"
            + " the file security.tokensFile names.")
final class TokenCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--name", required = true, description = "who holds it, as audit lines name it")
  String name;

  @Option(
      names = "--role",
      required = true,
      description = "reader, writer or admin (each includes the ones before it)")
  String role;

  @Option(
      names = "--prefix",
      description = "limit a reader or writer to keys starting with this (repeatable)")
  List<String> prefixes;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (Role.parse(role).isEmpty()) {
      err.println("scribe token: --role must be reader, writer or admin");
      return ScribeCli.UNREACHABLE;
    }
    String token = TokenStore.newToken();
    JsonObject entry =
        new JsonObject()
            .put("name", name)
            .put("sha256", TokenStore.digestHex(token))
            .put("role", role);
    if (prefixes != null && !prefixes.isEmpty()) {
      entry.put("prefixes", new JsonArray(List.copyOf(prefixes)));
    }
    String problem = TokenStore.problem(entry);
    if (problem != null) {
      err.println("scribe token: " + problem);
      return ScribeCli.UNREACHABLE;
    }
    out.println(token);
    out.println(entry.encode());
    return 0;
  }
}
