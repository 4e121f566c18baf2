package io.scribeledger.http;

import io.scribeledger.auth.AuditLog;
import io.scribeledger.auth.Principal;
import io.scribeledger.auth.Role;
import io.scribeledger.auth.TokenStore;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.Failures;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Predicate;

/**
 * Who is calling, and whether they may use the route: a bearer token from the tokens file (or, on a
 * node that runs open, everyone as {@link Principal#OPEN}). Both checks run before a request body
 * is read, so an unauthorized upload costs the node nothing.
 */
final class AccessControl {

  private static final String PRINCIPAL = "scribe.principal";
  private static final String BEARER = "Bearer ";
  private static final int MAX_AUDITED_PATH = 256;

  private final Optional<TokenStore> tokens;
  private final RateLimits rates;
  private final AuditWindow noisy = new AuditWindow();

  AccessControl(Optional<TokenStore> tokens, RateLimits rates) {
    this.tokens = tokens;
    this.rates = rates;
  }

  /**
   * The caller of a request that passed {@link #authenticate()}; null for one that did not (a route
   * registered before it): such a request is refused by every check, never run as anyone.
   */
  static Principal principal(RoutingContext ctx) {
    return ctx.get(PRINCIPAL);
  }

  /**
   * Whether this request may see a node's details on an open route (the health probe): a node
   * without tokens shows them to everyone, one with tokens only to a valid token's holder.
   */
  boolean mayReadDetails(RoutingContext ctx) {
    if (tokens.isEmpty()) {
      return true;
    }
    return bearer(ctx).flatMap(tokens.get()::authenticate).isPresent();
  }

  /** The token an {@code Authorization: Bearer …} header presents, if the request has one. */
  private static Optional<String> bearer(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    return header != null && header.regionMatches(true, 0, BEARER, 0, BEARER.length())
        ? Optional.of(header.substring(BEARER.length()).trim())
        : Optional.empty();
  }

  /**
   * Every route registered after this handler needs a valid token (401 {@code unauthorized}
   * otherwise); routes registered before it (the health probes) are open.
   */
  Handler<RoutingContext> authenticate() {
    return ctx -> {
      if (tokens.isEmpty()) {
        admit(ctx, Principal.OPEN, null);
        return;
      }
      Optional<String> token = bearer(ctx);
      if (token.isEmpty()) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"scribe\"");
        admit(ctx, null, "anonymous");
        return;
      }
      Optional<Principal> p = tokens.get().authenticate(token.get());
      if (p.isEmpty()) {
        ctx.response()
            .putHeader("WWW-Authenticate", "Bearer realm=\"scribe\", error=\"invalid_token\"");
      }
      admit(ctx, p.orElse(null), "unknown-token");
    };
  }

  /**
   * Counts the request against its caller's rate (the token, or the client address without a valid
   * one: failed attempts are limited too), then lets it go on as {@code principal}, or answers 401
   * naming {@code failure} as the caller when there is none.
   */
  private void admit(RoutingContext ctx, Principal principal, String failure) {
    if (rates.enabled()) {
      boolean byToken = principal != null && tokens.isPresent();
      String caller =
          byToken ? "token " + principal.name() : "address " + addressGroup(ctx.request());
      OptionalLong wait = rates.admit(caller, declaredLength(ctx.request()));
      if (wait.isPresent()) {
        ctx.response().putHeader("Retry-After", Long.toString(wait.getAsLong()));
        deny(
            ctx,
            byToken ? principal.name() : failure == null ? "anonymous" : failure,
            ErrorCode.RATE_LIMITED,
            "this caller is over its rate limit; retry after "
                + wait.getAsLong()
                + " s (docs/SECURITY.md)");
        return;
      }
    }
    if (principal == null) {
      deny(
          ctx,
          failure,
          ErrorCode.UNAUTHORIZED,
          failure.equals("anonymous")
              ? "this route needs a bearer token"
              : "the bearer token is not valid");
      return;
    }
    ctx.put(PRINCIPAL, principal);
    ctx.next();
  }

  /**
   * The client address a rate applies to: an IPv4 address, or an IPv6 address's /64 (one host
   * usually holds a whole /64, and could otherwise take a fresh bucket per address).
   */
  static String addressGroup(HttpServerRequest request) {
    String host = request.remoteAddress().host();
    if (host.indexOf(':') < 0) {
      return host;
    }
    try {
      byte[] a = java.net.InetAddress.getByName(host).getAddress();
      if (a.length != 16) {
        return host;
      }
      return java.util.HexFormat.of().formatHex(a, 0, 8) + "::/64";
    } catch (java.net.UnknownHostException e) {
      return host;
    }
  }

  private static long declaredLength(HttpServerRequest request) {
    String length = request.getHeader("Content-Length");
    try {
      return length == null ? 0 : Math.max(0, Long.parseLong(length.trim()));
    } catch (NumberFormatException e) {
      return 0; // the body reader refuses it
    }
  }

  /** The route needs {@code role} and touches no single key's value. */
  Handler<RoutingContext> require(Role role) {
    return check(p -> p.may(role), "needs the " + role.label() + " role");
  }

  /** The route reads entries of every key: a token limited to key prefixes may not. */
  Handler<RoutingContext> requireWholeLedger() {
    return check(
        Principal::mayReadAll, "reads every key's entries: needs a reader token without prefixes");
  }

  /**
   * The route reads (GET) or writes (any other method) the key in the path segment after {@code
   * prefix}; a token limited to prefixes must cover it.
   */
  Handler<RoutingContext> requireKey(String prefix) {
    return ctx -> {
      HttpMethod method = ctx.request().method();
      Role role =
          method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)
              ? Role.READER
              : Role.WRITER;
      Principal p = principal(ctx);
      if (p == null) {
        deny(ctx, "nobody", ErrorCode.UNAUTHORIZED, "this route needs a bearer token");
        return;
      }
      String raw = ctx.request().path().substring(prefix.length());
      String key;
      try {
        key = PathKeys.decode(raw, false, ErrorCode.INVALID_KEY);
      } catch (RuntimeException malformed) {
        // The handler answers invalid_key to whoever may use every key; others learn nothing.
        key = p.prefixes().isEmpty() ? "" : null;
      }
      if (key != null && p.may(role, key)) {
        ctx.next();
      } else {
        deny(
            ctx,
            p.name(),
            ErrorCode.FORBIDDEN,
            "the token may not " + (role == Role.READER ? "read" : "write") + " this key");
      }
    };
  }

  private Handler<RoutingContext> check(Predicate<Principal> allowed, String why) {
    return ctx -> {
      Principal p = principal(ctx);
      if (p == null) {
        deny(ctx, "nobody", ErrorCode.UNAUTHORIZED, "this route needs a bearer token");
      } else if (allowed.test(p)) {
        ctx.next();
      } else {
        deny(ctx, p.name(), ErrorCode.FORBIDDEN, "the token's role does not allow this: " + why);
      }
    };
  }

  /**
   * Answers the error, records it in the audit log, and closes the connection when a body was on
   * its way (it is never read).
   */
  private void deny(RoutingContext ctx, String principal, ErrorCode code, String message) {
    String event =
        switch (code) {
          case UNAUTHORIZED -> "auth_failed";
          case RATE_LIMITED -> "rate_limited";
          default -> "denied";
        };
    if (code == ErrorCode.FORBIDDEN) {
      audit(ctx, event, principal, code.code());
    } else {
      // Anyone can cause these without a token: one line per caller per window, then a count,
      // so a flood cannot bury the rest of the audit log.
      long suppressed = noisy.admit(event + " " + principal + " " + addressGroup(ctx.request()));
      if (suppressed >= 0) {
        audit(
            ctx,
            event,
            principal,
            code.code(),
            suppressed == 0
                ? null
                : suppressed + " more like this from this caller in the last window, not logged");
      }
    }
    HttpServerRequest request = ctx.request();
    String length = request.getHeader("Content-Length");
    boolean bodyComing =
        !request.isEnded()
            && (request.getHeader("Transfer-Encoding") != null
                || (length != null && !"0".equals(length.trim())));
    if (bodyComing) {
      BoundedBody.refuse(ctx, code, message);
    } else {
      ErrorResponses.send(ctx, code, message);
    }
  }

  /**
   * Records a security-relevant action (join, leave, scrub) once it ends: who asked, for what, and
   * whether it succeeded (or the error code it failed with).
   */
  static <T> Future<T> audited(RoutingContext ctx, String event, String detail, Future<T> action) {
    return action.onComplete(
        ar ->
            audit(
                ctx,
                event,
                principal(ctx) == null ? "nobody" : principal(ctx).name(),
                ar.succeeded() ? "ok" : Failures.toApiError(ar.cause()).code().code(),
                detail));
  }

  /** One audit line for this request: the route, the caller, the request id and the outcome. */
  static void audit(RoutingContext ctx, String event, String principal, String outcome) {
    audit(ctx, event, principal, outcome, null);
  }

  static void audit(
      RoutingContext ctx, String event, String principal, String outcome, String detail) {
    String path = ctx.request().path();
    String route =
        ctx.request().method().name()
            + " "
            + (path.length() > MAX_AUDITED_PATH ? path.substring(0, MAX_AUDITED_PATH) + "…" : path);
    AuditLog.record(
        new AuditLog.Event(
            event,
            principal,
            route,
            ctx.response().headers().get("X-Request-Id"),
            String.valueOf(ctx.request().remoteAddress()),
            outcome,
            detail));
  }
}
