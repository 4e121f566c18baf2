package io.scribeledger.ledger;

/**
 * A member as the replicated state knows it: its HTTP address and its tree-head signing key (base64
 * X.509 SubjectPublicKeyInfo; empty until the member registered one).
 */
public record MemberRecord(String httpAddress, String publicKey) {

  public MemberRecord {
    if (httpAddress.indexOf('\n') >= 0 || publicKey.indexOf('\n') >= 0) {
      throw new IllegalArgumentException("a member record holds no line breaks");
    }
  }

  /** The stored form: the address, and the key after a line break when there is one. */
  public String encoded() {
    return publicKey.isEmpty() ? httpAddress : httpAddress + "\n" + publicKey;
  }

  /** Reads {@link #encoded()}; a record stored before keys were replicated has none. */
  public static MemberRecord decode(String stored) {
    int nl = stored.indexOf('\n');
    return nl < 0
        ? new MemberRecord(stored, "")
        : new MemberRecord(stored.substring(0, nl), stored.substring(nl + 1));
  }
}
