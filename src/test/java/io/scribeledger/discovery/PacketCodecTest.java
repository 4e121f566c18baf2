package io.scribeledger.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every datagram is authenticated and fits one UDP packet: round trips, the size limit, and a
 * hostile stream of random, truncated, oversized, forged, replayed, stale and wrong-cluster packets
 * of which none is accepted, no exception escapes, and the counts by reason are exact.
 */
class PacketCodecTest {

  static final long NOW = 1_800_000_000_000L;

  static Keyring keys(String id, String secret) {
    return new Keyring(id, Map.of(id, secret.getBytes(StandardCharsets.UTF_8)));
  }

  static Packet ping(String sender, long seq, long timestamp) {
    return new Packet(
        Packet.Type.PING,
        sender,
        sender + ":7946",
        "",
        "",
        7,
        seq,
        timestamp,
        42,
        "",
        "",
        List.of());
  }

  static List<Packet.Update> updates(int n) {
    List<Packet.Update> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(
          new Packet.Update(
              "member-" + i, "10.0.0." + i + ":7946", Packet.Status.SUSPECT, i, "n1"));
    }
    return out;
  }

  @Test
  void aPacketRoundTripsWithAsManyUpdatesAsFitAndNeverMoreThan1200Bytes() {
    PacketCodec sender = new PacketCodec(keys("k1", "0123456789abcdef"), "c1", 30_000);
    PacketCodec receiver = new PacketCodec(keys("k1", "0123456789abcdef"), "c1", 30_000);
    PacketCodec.Encoded e = sender.encode(ping("n1", 1, NOW), updates(200));
    assertTrue(e.bytes().length <= PacketCodec.MAX_BYTES, "size " + e.bytes().length);
    assertTrue(e.updates() > 5 && e.updates() < 200, "updates " + e.updates());
    Packet back = ((PacketCodec.Result.Accepted) receiver.decode(e.bytes(), NOW)).packet();
    assertEquals("n1", back.sender());
    assertEquals(e.updates(), back.updates().size());
    assertEquals(updates(200).subList(0, e.updates()), back.updates());
    assertThrows(
        IllegalArgumentException.class,
        () -> sender.encode(ping("n".repeat(65), 2, NOW), List.of()),
        "a field over 64 bytes is refused, never truncated");
  }

  @Test
  void aHostileStreamIsDroppedAndCountedByReason() {
    Random random = new Random(5);
    PacketCodec good = new PacketCodec(keys("k1", "0123456789abcdef"), "c1", 30_000);
    PacketCodec forger = new PacketCodec(keys("k1", "not-the-secret!!"), "c1", 30_000);
    PacketCodec stranger = new PacketCodec(keys("k9", "0123456789abcdef"), "c1", 30_000);
    PacketCodec otherCluster = new PacketCodec(keys("k1", "0123456789abcdef"), "c2", 30_000);
    PacketCodec receiver = new PacketCodec(keys("k1", "0123456789abcdef"), "c1", 30_000);
    Map<DropReason, Integer> expected = new EnumMap<>(DropReason.class);
    Map<DropReason, Integer> actual = new EnumMap<>(DropReason.class);
    byte[] genuine = good.encode(ping("n1", 1, NOW), updates(3)).bytes();
    assertInstanceOf(PacketCodec.Result.Accepted.class, receiver.decode(genuine, NOW));
    long seq = 2;
    for (int i = 0; i < 100_000; i++) {
      byte[] datagram;
      DropReason reason;
      switch (i % 8) {
        case 0 -> {
          datagram = new byte[random.nextInt(PacketCodec.MAX_BYTES)];
          random.nextBytes(datagram);
          reason = DropReason.MALFORMED;
        }
        case 1 -> {
          datagram = java.util.Arrays.copyOf(genuine, random.nextInt(genuine.length));
          reason = DropReason.MALFORMED;
        }
        case 2 -> {
          datagram = new byte[PacketCodec.MAX_BYTES + 1 + random.nextInt(60_000)];
          reason = DropReason.OVERSIZED;
        }
        case 3 -> {
          datagram = forger.encode(ping("n1", seq++, NOW), List.of()).bytes();
          reason = DropReason.BAD_MAC;
        }
        case 4 -> {
          datagram = genuine.clone(); // seen already
          reason = DropReason.REPLAYED;
        }
        case 5 -> {
          datagram = otherCluster.encode(ping("n1", seq++, NOW), List.of()).bytes();
          reason = DropReason.WRONG_CLUSTER;
        }
        case 6 -> {
          datagram = good.encode(ping("n1", seq++, NOW - 31_000), List.of()).bytes();
          reason = DropReason.STALE;
        }
        default -> {
          datagram = stranger.encode(ping("n1", seq++, NOW), List.of()).bytes();
          reason = DropReason.UNKNOWN_KEY;
        }
      }
      if (i % 8 == 0 && datagram.length >= 3 && datagram[0] == 'S' && datagram[1] == 'D') {
        datagram[2] = 9; // a random datagram that happened to start like ours
      }
      expected.merge(reason, 1, Integer::sum);
      PacketCodec.Result r = receiver.decode(datagram, NOW);
      if (r instanceof PacketCodec.Result.Dropped d) {
        actual.merge(d.reason(), 1, Integer::sum);
      } else {
        throw new AssertionError("accepted hostile datagram " + i + " (" + reason + ")");
      }
    }
    assertEquals(expected, actual);
  }

  @Test
  void aFlippedBitAnywhereIsRefused() {
    PacketCodec good = new PacketCodec(keys("k1", "0123456789abcdef"), "c1", 30_000);
    byte[] genuine = good.encode(ping("n1", 1, NOW), updates(2)).bytes();
    for (int i = 0; i < genuine.length * 8; i++) {
      PacketCodec receiver = new PacketCodec(keys("k1", "0123456789abcdef"), "c1", 30_000);
      byte[] flipped = genuine.clone();
      flipped[i / 8] ^= (byte) (1 << (i % 8));
      assertInstanceOf(PacketCodec.Result.Dropped.class, receiver.decode(flipped, NOW), "bit " + i);
    }
  }

  @Test
  void keysRotateWithoutARefusedPacket() {
    byte[] oldKey = "old-secret-0123456".getBytes(StandardCharsets.UTF_8);
    byte[] newKey = "new-secret-0123456".getBytes(StandardCharsets.UTF_8);
    PacketCodec stillOld = new PacketCodec(new Keyring("old", Map.of("old", oldKey)), "c", 30_000);
    PacketCodec both =
        new PacketCodec(new Keyring("new", Map.of("old", oldKey, "new", newKey)), "c", 30_000);
    PacketCodec receiverOld =
        new PacketCodec(new Keyring("old", Map.of("old", oldKey, "new", newKey)), "c", 30_000);
    assertInstanceOf(
        PacketCodec.Result.Accepted.class,
        both.decode(stillOld.encode(ping("a", 1, NOW), List.of()).bytes(), NOW));
    assertInstanceOf(
        PacketCodec.Result.Accepted.class,
        receiverOld.decode(both.encode(ping("b", 1, NOW), List.of()).bytes(), NOW));
  }

  @Test
  void theReplayWindowTakesReorderedPacketsOnce() {
    ReplayWindow w = new ReplayWindow();
    assertTrue(w.accept(7, 100));
    assertTrue(w.accept(7, 98));
    assertTrue(!w.accept(7, 98));
    assertTrue(w.accept(7, 150));
    assertTrue(w.accept(7, 99));
    assertTrue(!w.accept(7, 80), "older than the window");
    assertTrue(w.accept(7, 1000));
    assertTrue(!w.accept(7, 150));
    // A refutation: the same run numbers on, and what it sent before stays refused.
    assertTrue(w.accept(8, 1001));
    assertTrue(!w.accept(8, 1000));
    assertTrue(!w.accept(7, 1002), "an older incarnation");
    // A restart whose clock stepped back: numbers start lower, the incarnation is higher.
    assertTrue(w.accept(9, 5));
    assertTrue(w.accept(9, 6));
    assertTrue(!w.accept(9, 5));
    assertTrue(!w.accept(8, 2000), "the earlier run's, even with a higher number");
  }

  @Test
  void aRestartIsNewerThanTheRunBeforeEvenWhenTheClockSteppedBack(@TempDir Path dir)
      throws Exception {
    IncarnationFile file = new IncarnationFile(dir);
    assertEquals(NOW, file.start(NOW).start());
    // Refutations during that run may use the reserved block without a write each.
    long reserved = NOW + IncarnationFile.BLOCK;
    assertEquals(reserved + 1, file.start(NOW - 60_000).start(), "the clock went back a minute");
    assertEquals(NOW + 3_600_000, file.start(NOW + 3_600_000).start());
    assertEquals(
        NOW + 3_600_000 + 2 * IncarnationFile.BLOCK,
        file.reserveFrom(NOW + 3_600_000 + IncarnationFile.BLOCK));
    assertEquals(NOW + 3_600_000 + 2 * IncarnationFile.BLOCK + 1, file.start(NOW).start());
    // Not a number (not written by us: writes are atomic): the clock decides, and it is rewritten.
    java.nio.file.Files.writeString(dir.resolve("discovery.incarnation"), "garbage");
    assertEquals(NOW + 7_200_000, file.start(NOW + 7_200_000).start());
    assertEquals(
        Long.toString(NOW + 7_200_000 + IncarnationFile.BLOCK),
        java.nio.file.Files.readString(dir.resolve("discovery.incarnation")));
  }
}
