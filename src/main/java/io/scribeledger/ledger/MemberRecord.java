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

  /**
   * Reads {@link #encoded()}; never throws: a record stored before keys were replicated has none,
   * and one an older version stored unchecked (line breaks in its address) keeps its first line as
   * the address and no key, rather than failing every replica that reads it.
   */
  public static MemberRecord decode(String stored) {
    int nl = stored.indexOf('\n');
    if (nl < 0) {
      return new MemberRecord(stored, "");
    }
    String key = stored.substring(nl + 1);
    boolean wellFormed = key.indexOf('\n') < 0 && MemberRules.isBase64(key);
    return new MemberRecord(stored.substring(0, nl), wellFormed ? key : "");
  }
}
