package io.scribeledger.tier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.merkle.Hashes;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Objects made from segment files and back: byte for byte, hashed per part, never unbounded. */
class SegmentCodecTest {

  @Test
  void aSegmentComesBackByteForByteWithItsHashesAndParts(@TempDir Path dir) throws IOException {
    byte[] segment = new byte[13 * 1024 * 1024 + 17];
    new Random(3).nextBytes(segment);
    Path file = Files.write(dir.resolve("seg"), segment);
    for (String codec : new String[] {"gzip", "none"}) {
      SegmentCodec.Prepared p =
          SegmentCodec.prepare(file, codec, dir.resolve(codec + ".obj"), 5L << 20);
      assertEquals(Files.size(p.file()), p.size());
      assertArrayEquals(Hashes.sha256(p.file()), p.sha256());
      assertTrue(p.multipart());
      assertEquals(3, p.partMd5s().size(), "parts of 5 MiB, 5 MiB and the rest");
      Path back = dir.resolve(codec + ".back");
      SegmentCodec.restore(p.file(), codec, back, segment.length);
      assertArrayEquals(segment, Files.readAllBytes(back));
    }
  }

  @Test
  void anObjectThatInflatesPastItsSegmentIsRefused(@TempDir Path dir) throws IOException {
    Path bomb = dir.resolve("bomb.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(bomb))) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 64; i++) {
        out.write(zeros); // 64 MiB of zeros in a few dozen KiB
      }
    }
    IOException e =
        assertThrows(
            IOException.class,
            () -> SegmentCodec.restore(bomb, "gzip", dir.resolve("out"), 4L << 20));
    assertTrue(e.getMessage().contains("more than the segment's"), e.getMessage());
    assertTrue(Files.size(dir.resolve("out")) <= 4L << 20);
    assertThrows(
        IOException.class, () -> SegmentCodec.restore(bomb, "zip", dir.resolve("o2"), 1 << 20));
  }
}
