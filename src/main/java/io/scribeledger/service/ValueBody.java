package io.scribeledger.service;

import java.nio.channels.FileChannel;

/**
 * A value's bytes as a read answers them: none (HEAD), in memory (small values), or a checked
 * region of a segment file that the HTTP layer sends from disk (large values, never copied whole
 * into the heap).
 */
public sealed interface ValueBody {

  /** The size is all the caller asked for (HEAD). */
  record None() implements ValueBody {}

  /** The bytes themselves. */
  // Bytes: compared by content where it matters, never by record equality.
  @SuppressWarnings("ArrayRecordComponent")
  record InMemory(byte[] bytes) implements ValueBody {}

  /**
   * {@code length} bytes at {@code offset} of a channel opened for this read and already checked
   * against the value's SHA-256: whoever sends it closes it (an unreachable one is closed by the
   * JDK's cleaner, should a reply never reach its sender).
   */
  record OnDisk(FileChannel channel, long offset, long length) implements ValueBody {}
}
