package io.scribeledger.ledger;

/**
 * A replica's tree differs from the head its leader proposed: going on would answer for another
 * history than the group's, so the apply fails stop. The member needs the group's state again
 * (removed and added back, which sends it the leader's snapshot).
 */
public final class HistoryMismatch extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  HistoryMismatch(HeadCheck check, String detail) {
    super(
        "the leader's tree at size "
            + check.size()
            + " has root "
            + io.scribeledger.merkle.Hashes.hex(check.root())
            + ", but "
            + detail
            + "; stopping instead of forking (remove this member with /cluster/leave and add it"
            + " again)");
  }
}
