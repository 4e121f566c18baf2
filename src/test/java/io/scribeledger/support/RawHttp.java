package io.scribeledger.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** HTTP/1.1 as raw bytes over a socket, for requests no HTTP client would send. */
public final class RawHttp {

  private RawHttp() {}

  /** A response read until the server closes the connection (or a 10 s read timeout). */
  public record Raw(String head, String body, boolean closed) {
    public int status() {
      return Integer.parseInt(head.split(" ", 3)[1]);
    }

    public String header(String name) {
      for (String line : head.split("\r\n", -1)) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
          return line.substring(colon + 1).trim();
        }
      }
      return "";
    }

    public String text() {
      return head + "\r\n\r\n" + body;
    }
  }

  /** Sends {@code request} on a new connection and reads what comes back until it closes. */
  public static Raw exchange(int port, byte[] request) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.getOutputStream().write(request);
      socket.getOutputStream().flush();
      return readUntilClosed(socket);
    }
  }

  /** Reads the connection until the server closes it (or 10 s of silence); the last response. */
  public static Raw readUntilClosed(Socket socket) throws IOException {
    socket.setSoTimeout(10_000);
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    boolean closed;
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        seen.write(buf, 0, n);
      }
      closed = true;
    } catch (SocketTimeoutException e) {
      closed = false;
    }
    String all = seen.toString(StandardCharsets.ISO_8859_1);
    // Pipelined requests: the answer that matters is the last response on the connection.
    int last = all.lastIndexOf("HTTP/1.1 ");
    all = last < 0 ? all : all.substring(last);
    int split = all.indexOf("\r\n\r\n");
    if (split < 0) {
      return new Raw(all.isEmpty() ? "HTTP/1.1 000 nothing" : all, "", closed);
    }
    return new Raw(all.substring(0, split), all.substring(split + 4), closed);
  }

  /** Opens a connection and sends {@code start} of a request, leaving the rest unsent. */
  public static Socket begin(int port, String start) throws IOException {
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
    OutputStream out = socket.getOutputStream();
    out.write(start.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return socket;
  }
}
