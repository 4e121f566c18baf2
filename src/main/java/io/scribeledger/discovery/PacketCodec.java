package io.scribeledger.discovery;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The wire form of discovery packets and the gate every datagram passes: {@code "SD" u8 version u8
 * type}, then key id, cluster, sender, sender address (each u8 length + UTF-8), incarnation,
 * sequence number, timestamp (ms), probe id (u64 each), target id and address, u8 count of updates
 * (status u8, incarnation u64, member id, address, by), and last an HMAC-SHA256 over every byte
 * before it. A datagram is at most {@link #MAX_BYTES}; the encoder adds updates only while they fit
 * and refuses to build a larger packet. The decoder checks, in order: size, form, key id, MAC
 * (constant-time), cluster, timestamp, replay — the protocol sees only what passed all of them.
 */
public final class PacketCodec {

  /** Fits an IPv6 path's minimum MTU with room for headers: never fragmented. */
  public static final int MAX_BYTES = 1200;

  private static final byte[] MAGIC = {'S', 'D'};
  private static final byte VERSION = 1;
  private static final int MAC_BYTES = 32;
  private static final int MAX_FIELD = 64;

  /** Senders whose replay windows are kept (authentic senders only: forged ones fail the MAC). */
  private static final int MAX_SENDERS = 4096;

  private final Keyring keys;
  private final String cluster;
  private final long maxSkewMs;
  private final Map<String, ReplayWindow> windows =
      new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ReplayWindow> eldest) {
          return size() > MAX_SENDERS;
        }
      };

  public PacketCodec(Keyring keys, String cluster, long maxSkewMs) {
    this.keys = keys;
    this.cluster = cluster;
    this.maxSkewMs = maxSkewMs;
  }

  /** What became of a datagram: the packet, or why it was dropped. */
  public sealed interface Result {
    /** Authentic, current, for this cluster, not seen before. */
    record Accepted(Packet packet) implements Result {}

    /** Dropped, for this reason. */
    record Dropped(DropReason reason) implements Result {}
  }

  /** A signed datagram and how many of the offered updates it carries. */
  // Bytes: never compared by record equality.
  @SuppressWarnings("ArrayRecordComponent")
  public record Encoded(byte[] bytes, int updates) {}

  /**
   * Encodes {@code packet}, adding as many of {@code updates} as fit (in order), and signs it with
   * the sending key. IllegalArgumentException when the packet without updates does not fit.
   */
  public Encoded encode(Packet packet, List<Packet.Update> updates) {
    ByteBuffer b = ByteBuffer.allocate(MAX_BYTES);
    try {
      b.put(MAGIC).put(VERSION).put(packet.type().code);
      putString(b, keys.sendId());
      putString(b, cluster);
      putString(b, packet.sender());
      putString(b, packet.senderAddress());
      putString(b, packet.senderRaft());
      putString(b, packet.senderHttp());
      b.putLong(packet.incarnation())
          .putLong(packet.seq())
          .putLong(packet.timestamp())
          .putLong(packet.probe());
      putString(b, packet.targetId());
      putString(b, packet.targetAddress());
    } catch (java.nio.BufferOverflowException e) {
      throw new IllegalArgumentException("a discovery packet does not fit in " + MAX_BYTES, e);
    }
    int countAt = b.position();
    b.put((byte) 0);
    int count = 0;
    for (Packet.Update u : updates) {
      byte[] encoded = update(u);
      if (count == 255 || b.position() + encoded.length > MAX_BYTES - MAC_BYTES) {
        break;
      }
      b.put(encoded);
      count++;
    }
    if (b.position() > MAX_BYTES - MAC_BYTES) {
      throw new IllegalArgumentException("a discovery packet does not fit in " + MAX_BYTES);
    }
    b.put(countAt, (byte) count);
    byte[] body = new byte[b.position()];
    b.flip().get(body);
    byte[] mac = mac(keys.sendKey(), body, body.length);
    byte[] out = new byte[body.length + MAC_BYTES];
    System.arraycopy(body, 0, out, 0, body.length);
    System.arraycopy(mac, 0, out, body.length, MAC_BYTES);
    return new Encoded(out, count);
  }

  private static byte[] update(Packet.Update u) {
    ByteBuffer b = ByteBuffer.allocate(1 + 8 + 3 * (1 + MAX_FIELD * 4));
    b.put(u.status().code).putLong(u.incarnation());
    putString(b, u.memberId());
    putString(b, u.address());
    putString(b, u.by());
    byte[] out = new byte[b.position()];
    b.flip().get(out);
    return out;
  }

  private static void putString(ByteBuffer b, String s) {
    byte[] bytes = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
    if (bytes.length > MAX_FIELD) {
      throw new IllegalArgumentException("a discovery field is at most " + MAX_FIELD + " bytes");
    }
    b.put((byte) bytes.length).put(bytes);
  }

  /** Checks and decodes one datagram received at {@code nowMs}; never throws. */
  public Result decode(byte[] datagram, long nowMs) {
    if (datagram.length > MAX_BYTES) {
      return new Result.Dropped(DropReason.OVERSIZED);
    }
    if (datagram.length < MAGIC.length + 2 + MAC_BYTES
        || datagram[0] != MAGIC[0]
        || datagram[1] != MAGIC[1]
        || datagram[2] != VERSION) {
      return new Result.Dropped(DropReason.MALFORMED);
    }
    int bodyLength = datagram.length - MAC_BYTES;
    ByteBuffer b = ByteBuffer.wrap(datagram, 0, bodyLength);
    b.position(3);
    Packet packet;
    String keyId;
    String packetCluster;
    try {
      Packet.Type type = Packet.Type.of(b.get());
      keyId = getString(b);
      packetCluster = getString(b);
      String sender = getString(b);
      String senderAddress = getString(b);
      String senderRaft = getString(b);
      String senderHttp = getString(b);
      long incarnation = b.getLong();
      long seq = b.getLong();
      long timestamp = b.getLong();
      long probe = b.getLong();
      String targetId = getString(b);
      String targetAddress = getString(b);
      int count = Byte.toUnsignedInt(b.get());
      List<Packet.Update> updates = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        Packet.Status status = Packet.Status.of(b.get());
        long inc = b.getLong();
        updates.add(new Packet.Update(getString(b), getString(b), status, inc, getString(b)));
      }
      if (b.hasRemaining() || sender.isEmpty()) {
        return new Result.Dropped(DropReason.MALFORMED);
      }
      packet =
          new Packet(
              type,
              sender,
              senderAddress,
              senderRaft,
              senderHttp,
              incarnation,
              seq,
              timestamp,
              probe,
              targetId,
              targetAddress,
              List.copyOf(updates));
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      return new Result.Dropped(DropReason.MALFORMED);
    }
    var key = keys.key(keyId);
    if (key.isEmpty()) {
      return new Result.Dropped(DropReason.UNKNOWN_KEY);
    }
    byte[] expected = mac(key.get(), datagram, bodyLength);
    byte[] actual = java.util.Arrays.copyOfRange(datagram, bodyLength, datagram.length);
    if (!MessageDigest.isEqual(expected, actual)) {
      return new Result.Dropped(DropReason.BAD_MAC);
    }
    if (!cluster.equals(packetCluster)) {
      return new Result.Dropped(DropReason.WRONG_CLUSTER);
    }
    if (Math.abs(nowMs - packet.timestamp()) > maxSkewMs) {
      return new Result.Dropped(DropReason.STALE);
    }
    synchronized (windows) {
      if (!windows
          .computeIfAbsent(packet.sender(), s -> new ReplayWindow())
          .accept(packet.incarnation(), packet.seq())) {
        return new Result.Dropped(DropReason.REPLAYED);
      }
    }
    return new Result.Accepted(packet);
  }

  private static String getString(ByteBuffer b) {
    int length = Byte.toUnsignedInt(b.get());
    if (length > MAX_FIELD || length > b.remaining()) {
      throw new IllegalArgumentException("field too long");
    }
    byte[] bytes = new byte[length];
    b.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static byte[] mac(byte[] key, byte[] data, int length) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(data, 0, length);
      return mac.doFinal();
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available", e);
    }
  }
}
