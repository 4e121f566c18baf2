package io.scribeledger.ledger;

/**
 * Seal the active segment where this entry applies: every replica closes it after the same ledger
 * index, so boundaries and roots agree. Applied to an empty segment it does nothing.
 */
public record SealSegment() implements Proposal {}
