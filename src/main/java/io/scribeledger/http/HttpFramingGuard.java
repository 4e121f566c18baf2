package io.scribeledger.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.impl.HttpServerConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Answers what the HTTP/1.x decoder could not parse — a bad request line or header, an unknown HTTP
 * version, a bad {@code Content-Length}, a broken chunked body — with API.md's JSON {@code
 * bad_request}, then closes the connection: after a framing error nothing later on it can be
 * trusted to start a request.
 *
 * <p>It sits in the Netty pipeline just before Vert.x's handler because Vert.x answers two of these
 * itself with an empty body (501 for an unknown version) or none at all (a broken chunk closes the
 * connection before a response queued during the read is flushed). One place for all of them.
 */
final class HttpFramingGuard extends ChannelDuplexHandler {

  /**
   * Long enough to say what was wrong, short enough that an attacker's bytes are not echoed at
   * length.
   */
  private static final int MAX_DETAIL = 200;

  /**
   * Requests read on this connection, and responses completely written; equal when none is in
   * progress.
   */
  private long requestsRead;

  private long responsesDone;

  /** Whether the response to the request in progress has started (then ours cannot be sent). */
  private boolean responseStarted;

  private boolean refused;

  /** The error answer to send once every earlier request on the connection has been answered. */
  private FullHttpResponse pendingAnswer;

  /**
   * Counts the connection against the node's cap and puts a guard in front of an HTTP/1.x
   * connection's Vert.x handler. A connection over the cap is closed at once: held open until it
   * spoke, it would still cost a file descriptor, and running out of those fails the node's own
   * file writes.
   */
  static void install(HttpConnection connection, Admission admission) {
    if (!admission.connect()) {
      var unused = connection.close();
      return;
    }
    connection.closeHandler(closed -> admission.disconnect());
    if (connection instanceof HttpServerConnection c
        && c.channelHandlerContext().pipeline().get("handler") != null) {
      c.channelHandlerContext()
          .pipeline()
          .addBefore("handler", "scribe-framing-guard", new HttpFramingGuard());
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (!(msg instanceof HttpObject http)) {
      ctx.fireChannelRead(msg);
      return;
    }
    ApiError problem = problem(http);
    if (msg instanceof HttpRequest && problem == null) {
      requestsRead++;
    }
    if (problem == null) {
      ctx.fireChannelRead(msg);
      return;
    }
    refused = true;
    ReferenceCountUtil.release(msg);
    if (msg instanceof HttpRequest) {
      // Earlier pipelined requests are answered first; ours follows the last of them.
      pendingAnswer = response(problem);
      answerWhenIdle(ctx);
    } else if (requestsRead == responsesDone + 1 && !responseStarted) {
      // The body of the request in progress broke before anything was answered for it.
      ctx.writeAndFlush(response(problem)).addListener(ChannelFutureListener.CLOSE);
    } else {
      var unused = ctx.close(); // nothing to report if closing fails: the peer is gone either way
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    if (msg instanceof HttpResponse) {
      responseStarted = true;
    }
    if (msg instanceof LastHttpContent) {
      responsesDone++;
      responseStarted = false;
    }
    super.write(ctx, msg, promise);
    answerWhenIdle(ctx);
  }

  private void answerWhenIdle(ChannelHandlerContext ctx) {
    if (pendingAnswer != null && requestsRead == responsesDone) {
      FullHttpResponse answer = pendingAnswer;
      pendingAnswer = null;
      ctx.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** What is wrong with a decoded message, or null when nothing is. */
  private static ApiError problem(HttpObject msg) {
    DecoderResult result = msg.decoderResult();
    if (result.isFailure()) {
      Throwable cause = result.cause();
      if (msg instanceof HttpRequest
          && cause instanceof TooLongFrameException
          && cause.getMessage() != null) {
        // The decoder's own wording tells a request line that is too long from headers that are.
        return cause.getMessage().startsWith("An HTTP line is larger than")
            ? ApiError.of(ErrorCode.URI_TOO_LONG, "the request line is too long")
            : ApiError.of(ErrorCode.HEADERS_TOO_LARGE, "the request headers are too large");
      }
      String part = msg instanceof HttpRequest ? "request" : "request body";
      return ApiError.of(
          ErrorCode.BAD_REQUEST, "the HTTP " + part + " could not be parsed: " + detail(cause));
    }
    if (msg instanceof HttpRequest request
        && !request.protocolVersion().equals(HttpVersion.HTTP_1_1)
        && !request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
      return ApiError.of(
          ErrorCode.BAD_REQUEST,
          "unsupported HTTP version "
              + detail(request.protocolVersion().text())
              + "; use HTTP/1.1");
    }
    if (msg instanceof HttpRequest request && !parseableTarget(request.uri())) {
      return ApiError.of(
          ErrorCode.BAD_REQUEST, "the request target is not a path or an absolute http(s) URI");
    }
    return null;
  }

  /**
   * Origin form ({@code /path}) goes on to routing, which judges the path itself; an absolute URI
   * must parse with a scheme and host, else Vert.x would quietly route it as {@code /}.
   */
  private static boolean parseableTarget(String target) {
    if (target.startsWith("/")) {
      return true;
    }
    try {
      URI uri = new URI(target);
      return uri.getHost() != null
          && ("http".equalsIgnoreCase(uri.getScheme())
              || "https".equalsIgnoreCase(uri.getScheme()));
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static FullHttpResponse response(ApiError error) {
    byte[] body = ErrorResponses.body(error).encode().getBytes(StandardCharsets.UTF_8);
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(error.code().status()),
            Unpooled.wrappedBuffer(body));
    response
        .headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
        .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
        .set("X-Request-Id", UUID.randomUUID().toString());
    if (error.code().retryable()) {
      response.headers().set("Retry-After", "1");
    }
    return response;
  }

  /**
   * The decoder's reason, cut short and stripped of control characters (it may quote the request).
   */
  private static String detail(Throwable cause) {
    return detail(
        cause == null || cause.getMessage() == null ? "malformed request" : cause.getMessage());
  }

  private static String detail(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length() && out.length() < MAX_DETAIL; i++) {
      char c = text.charAt(i);
      out.append(c < 0x20 || c >= 0x7F ? '?' : c);
    }
    return out.toString();
  }
}
