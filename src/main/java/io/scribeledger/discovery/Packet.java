package io.scribeledger.discovery;

import java.util.List;

/**
 * One discovery datagram as the protocol sees it once authenticated: who sent it (id, discovery
 * address, Raft and HTTP addresses for auto-join, incarnation), its sequence number and time, the
 * probe it belongs to, the member it is about (a ping request's target, or whom an indirect ack
 * vouches for), and the membership updates it carries.
 */
public record Packet(
    Type type,
    String sender,
    String senderAddress,
    String senderRaft,
    String senderHttp,
    long incarnation,
    long seq,
    long timestamp,
    long probe,
    String targetId,
    String targetAddress,
    List<Update> updates) {

  /** What a packet asks or answers; {@code code} is its byte on the wire. */
  public enum Type {
    /** Are you there? Answered by an {@link #ACK} with the same probe id. */
    PING(1),
    /** Yes (or, from a helper, the target answered me). */
    ACK(2),
    /** Please ping the target for me and forward its ack. */
    PING_REQ(3),
    /** I am leaving: mark me left. */
    LEAVE(4);

    final byte code;

    Type(int code) {
      this.code = (byte) code;
    }

    /** The type with wire byte {@code code}; IllegalArgumentException for any other byte. */
    static Type of(byte code) {
      for (Type t : values()) {
        if (t.code == code) {
          return t;
        }
      }
      throw new IllegalArgumentException("unknown packet type " + code);
    }
  }

  /** What one member's state is, as its gossip spreads: status, incarnation, who said so. */
  public record Update(
      String memberId, String address, Status status, long incarnation, String by) {}

  /** A member's status as the detector sees it; {@code code} is its byte on the wire. */
  public enum Status {
    ALIVE(1),
    SUSPECT(2),
    DOWN(3),
    LEFT(4);

    final byte code;

    Status(int code) {
      this.code = (byte) code;
    }

    /** The status with wire byte {@code code}; IllegalArgumentException for any other byte. */
    static Status of(byte code) {
      for (Status s : values()) {
        if (s.code == code) {
          return s;
        }
      }
      throw new IllegalArgumentException("unknown member status " + code);
    }

    /** The form users see in /cluster/members. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
