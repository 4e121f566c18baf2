package io.scribeledger.support;

import io.scribeledger.storage.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link FileOpener} whose channels fail on demand: once armed for a file name and an operation,
 * the chosen call throws "No space left on device" as a full disk would. A real disk cannot fail a
 * chosen write, so this is the one fake in the fault tests; the files under it are real.
 */
public final class FaultyFiles implements FileOpener {

  /** The operation to fail. */
  public enum Op {
    /**
     * A write; {@code partial} writes half the buffer first, as a disk filling up mid-write does.
     */
    WRITE,
    FORCE
  }

  private volatile String fileName;
  private volatile Op op;
  private volatile boolean partial;
  private final AtomicInteger countdown = new AtomicInteger(-1);
  private final AtomicInteger tripped = new AtomicInteger();

  /** Fails the {@code nth} (1-based) {@code op} on a file named {@code name} from now on. */
  public void arm(String name, Op operation, int nth, boolean partialWrite) {
    this.fileName = name;
    this.op = operation;
    this.partial = partialWrite;
    this.countdown.set(nth);
  }

  /** How many calls failed so far. */
  public int tripped() {
    return tripped.get();
  }

  @Override
  public FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException {
    return new Channel(file.getFileName().toString(), FileChannel.open(file, options));
  }

  private boolean shouldFail(String name, Op operation) {
    if (operation != op || !name.startsWith(fileName) || countdown.get() <= 0) {
      return false;
    }
    if (countdown.decrementAndGet() == 0) {
      tripped.incrementAndGet();
      return true;
    }
    return false;
  }

  private final class Channel extends FileChannel {
    private final String name;
    private final FileChannel real;

    Channel(String name, FileChannel real) {
      this.name = name;
      this.real = real;
    }

    private int failWrite(ByteBuffer src, long position) throws IOException {
      if (partial && src.remaining() > 1) {
        ByteBuffer half = src.duplicate();
        half.limit(half.position() + src.remaining() / 2);
        int written = position < 0 ? real.write(half) : real.write(half, position);
        src.position(src.position() + written);
      }
      throw new IOException("No space left on device (injected into " + name + ")");
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return shouldFail(name, Op.WRITE) ? failWrite(src, -1) : real.write(src);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      return shouldFail(name, Op.WRITE) ? failWrite(src, position) : real.write(src, position);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      if (shouldFail(name, Op.WRITE)) {
        throw new IOException("No space left on device (injected into " + name + ")");
      }
      return real.write(srcs, offset, length);
    }

    @Override
    public void force(boolean metaData) throws IOException {
      if (shouldFail(name, Op.FORCE)) {
        throw new IOException("Input/output error (injected into " + name + ")");
      }
      real.force(metaData);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return real.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return real.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return real.read(dst, position);
    }

    @Override
    public long position() throws IOException {
      return real.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      real.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return real.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      real.truncate(size);
      return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target)
        throws IOException {
      return real.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count)
        throws IOException {
      return real.transferFrom(src, position, count);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      return real.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return real.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return real.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      real.close();
    }
  }
}
