package io.scribeledger.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/**
 * Opens the channels the ledger appends through. Production uses {@link #DEFAULT}; fault tests pass
 * one whose channels fail a chosen write, which a real disk cannot do on demand.
 */
@FunctionalInterface
public interface FileOpener {

  /** {@link FileChannel#open(Path, Set, java.nio.file.attribute.FileAttribute[])}. */
  FileOpener DEFAULT = FileChannel::open;

  FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException;
}
