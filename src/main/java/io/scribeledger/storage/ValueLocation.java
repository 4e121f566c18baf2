package io.scribeledger.storage;

/** Where a value's bytes sit: segment file id, byte offset and length. */
public record ValueLocation(long segmentId, long offset, int length) {}
