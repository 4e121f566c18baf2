package io.scribeledger.ledger;

/** The operation an entry records; the code is the canonical entry's {@code op} byte. */
public enum Op {
  PUT(1),
  DELETE(2);

  private final int code;

  Op(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static Op fromCode(int code) {
    return switch (code) {
      case 1 -> PUT;
      case 2 -> DELETE;
      default -> throw new IllegalArgumentException("unknown op code " + code);
    };
  }
}
