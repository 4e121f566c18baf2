package io.scribeledger.tier;

import io.scribeledger.merkle.Hashes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * How a segment file becomes an archived object and back: gzip from the JDK (deterministic for a
 * given JDK, so a second upload of a segment writes the same bytes) or the file as it is. Blocking;
 * runs on workers.
 */
public final class SegmentCodec {

  private SegmentCodec() {}

  /**
   * An object ready to upload: its file, size, SHA-256 (recorded in the manifest), and the MD5 of
   * the whole and of each part (the store checks them on receipt).
   */
  // Hashes: compared by content where it matters, never by record equality.
  @SuppressWarnings("ArrayRecordComponent")
  public record Prepared(
      Path file,
      long size,
      byte[] sha256,
      String md5Base64,
      long partBytes,
      List<String> partMd5s) {

    /** Whether it goes up in parts (larger than one part). */
    public boolean multipart() {
      return size > partBytes;
    }
  }

  /**
   * Encodes {@code segment} with {@code codec} into {@code target} and hashes the result ({@code
   * partBytes} sets where the parts of a multipart upload begin).
   */
  public static Prepared prepare(Path segment, String codec, Path target, long partBytes)
      throws IOException {
    if ("gzip".equals(codec)) {
      try (InputStream in = Files.newInputStream(segment);
          OutputStream out = new GZIPOutputStream(Files.newOutputStream(target), 64 * 1024)) {
        in.transferTo(out);
      }
    } else if ("none".equals(codec)) {
      Files.copy(segment, target, StandardCopyOption.REPLACE_EXISTING);
    } else {
      throw new IllegalArgumentException("unknown codec " + codec);
    }
    MessageDigest sha = Hashes.sha256();
    MessageDigest whole = md5();
    MessageDigest part = md5();
    List<String> parts = new ArrayList<>();
    long inPart = 0;
    long size = 0;
    byte[] buf = new byte[64 * 1024];
    try (InputStream in = Files.newInputStream(target)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        sha.update(buf, 0, n);
        whole.update(buf, 0, n);
        int off = 0;
        while (off < n) {
          int take = (int) Math.min(n - off, partBytes - inPart);
          part.update(buf, off, take);
          off += take;
          inPart += take;
          if (inPart == partBytes) {
            parts.add(Base64.getEncoder().encodeToString(part.digest()));
            inPart = 0;
          }
        }
        size += n;
      }
    }
    if (inPart > 0) {
      parts.add(Base64.getEncoder().encodeToString(part.digest()));
    }
    return new Prepared(
        target,
        size,
        sha.digest(),
        Base64.getEncoder().encodeToString(whole.digest()),
        partBytes,
        List.copyOf(parts));
  }

  /**
   * Decodes an archived object {@code object} written with {@code codec} into {@code target}; more
   * than {@code maxBytes} of output is an error (a compressed object that expands without bound).
   */
  public static void restore(Path object, String codec, Path target, long maxBytes)
      throws IOException {
    if (!"gzip".equals(codec) && !"none".equals(codec)) {
      throw new IOException("unknown codec " + codec);
    }
    try (InputStream in =
            "gzip".equals(codec)
                ? new GZIPInputStream(Files.newInputStream(object), 64 * 1024)
                : Files.newInputStream(object);
        OutputStream out = Files.newOutputStream(target)) {
      byte[] buf = new byte[64 * 1024];
      long written = 0;
      int n;
      while ((n = in.read(buf)) > 0) {
        written += n;
        if (written > maxBytes) {
          throw new IOException(
              "the object decodes to more than the segment's " + maxBytes + " bytes");
        }
        out.write(buf, 0, n);
      }
    }
  }

  private static MessageDigest md5() {
    try {
      // Only the store's transfer check (Content-MD5), never an integrity claim of ours.
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no MD5", e);
    }
  }
}
