package org.bufcached.daemon.export;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import org.bufcached.daemon.store.BackingFile;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.PosixException;
import org.bufcached.protocol.NbdError;

/**
 * A store that does positioned I/O on the backing file, with no cache of its own
 * beyond the kernel's page cache. Every call runs on an I/O worker. It is the
 * reference the buffer cache is measured against, and the store for exports that
 * ask for no caching.
 */
public final class DirectFileStore implements BlockStore {
    private static final int ZERO_CHUNK = 1 << 20;

    private final BackingFile file;
    private final long size;
    private final IoWorkers workers;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    public DirectFileStore(BackingFile file, IoWorkers workers) throws PosixException {
        this.file = file;
        this.size = file.size();
        this.workers = workers;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, int length, IoCallback done) {
        workers.execute(() -> {
            ByteBuf buf = alloc.directBuffer(length);
            try {
                int n = file.pread(buf.memoryAddress() + buf.writerIndex(), length, offset);
                // The export's size is fixed; a shorter file (truncated behind our back) reads as zeroes.
                buf.writerIndex(n).writeZero(length - n);
                done.succeeded(buf);
            } catch (PosixException e) {
                buf.release();
                fail(done, e);
            }
        });
    }

    @Override
    public void write(long offset, ByteBuf data, boolean fua, IoCallback done) {
        workers.execute(() -> {
            try {
                writeFully(data, offset);
                if (fua) {
                    file.fdatasync();
                }
                done.succeeded(null);
            } catch (PosixException e) {
                fail(done, e);
            } finally {
                data.release();
            }
        });
    }

    private void writeFully(ByteBuf data, long offset) throws PosixException {
        if (data.hasMemoryAddress()) {
            file.pwrite(data.memoryAddress() + data.readerIndex(), data.readableBytes(), offset);
            return;
        }
        ByteBuf direct = alloc.directBuffer(data.readableBytes());
        try {
            direct.writeBytes(data, data.readerIndex(), data.readableBytes());
            file.pwrite(direct.memoryAddress(), direct.readableBytes(), offset);
        } finally {
            direct.release();
        }
    }

    @Override
    public void flush(IoCallback done) {
        workers.execute(() -> {
            try {
                file.fdatasync();
                done.succeeded(null);
            } catch (PosixException e) {
                fail(done, e);
            }
        });
    }

    @Override
    public void trim(long offset, long length, boolean fua, IoCallback done) {
        workers.execute(() -> {
            try {
                file.punchHole(offset, length);
                if (fua) {
                    file.fdatasync();
                }
                done.succeeded(null);
            } catch (PosixException e) {
                if (e.errno() == Errno.EOPNOTSUPP) {
                    done.succeeded(null); // TRIM is advisory: a filesystem without holes keeps the data.
                } else {
                    fail(done, e);
                }
            }
        });
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fastZero, boolean fua, IoCallback done) {
        workers.execute(() -> {
            try {
                if (!zeroByFallocate(offset, length, noHole)) {
                    if (fastZero) {
                        done.failed(NbdError.ENOTSUP, "the file system cannot zero faster than writing");
                        return;
                    }
                    writeZeroBuffers(offset, length);
                }
                if (fua) {
                    file.fdatasync();
                }
                done.succeeded(null);
            } catch (PosixException e) {
                fail(done, e);
            }
        });
    }

    /** Zeroes with fallocate; false when the file system supports neither way. */
    private boolean zeroByFallocate(long offset, long length, boolean noHole) throws PosixException {
        if (!noHole) {
            try {
                file.punchHole(offset, length);
                return true;
            } catch (PosixException e) {
                if (e.errno() != Errno.EOPNOTSUPP) {
                    throw e;
                }
            }
        }
        try {
            file.zeroRange(offset, length);
            return true;
        } catch (PosixException e) {
            if (e.errno() != Errno.EOPNOTSUPP) {
                throw e;
            }
            return false;
        }
    }

    private void writeZeroBuffers(long offset, long length) throws PosixException {
        ByteBuf zeroes = alloc.directBuffer(ZERO_CHUNK);
        try {
            zeroes.writeZero(ZERO_CHUNK);
            for (long done = 0; done < length; ) {
                int n = (int) Math.min(ZERO_CHUNK, length - done);
                file.pwrite(zeroes.memoryAddress(), n, offset + done);
                done += n;
            }
        } finally {
            zeroes.release();
        }
    }

    @Override
    public void cache(long offset, long length, IoCallback done) {
        // Without a cache of its own, the best this store can do is pull the range
        // into the page cache by reading it.
        workers.execute(() -> {
            ByteBuf scratch = alloc.directBuffer(ZERO_CHUNK);
            try {
                for (long pos = 0; pos < length; ) {
                    int n = (int) Math.min(ZERO_CHUNK, length - pos);
                    file.pread(scratch.memoryAddress(), n, offset + pos);
                    pos += n;
                }
                done.succeeded(null);
            } catch (PosixException e) {
                fail(done, e);
            } finally {
                scratch.release();
            }
        });
    }

    @Override
    public void blockStatus(long offset, long length, int maxExtents, IoCallback done) {
        workers.execute(() -> {
            try {
                long[] extents = file.extents(offset, Math.max(length, 1), maxExtents);
                done.succeeded(Descriptors.encode(alloc, extents, size - offset));
            } catch (PosixException e) {
                fail(done, e);
            }
        });
    }

    private static void fail(IoCallback done, PosixException e) {
        done.failed(NbdError.fromErrno(e.errno()), e.getMessage());
    }

    @Override
    public void close() {
        try {
            file.fdatasync();
        } catch (PosixException e) {
            org.slf4j.LoggerFactory.getLogger(DirectFileStore.class).error("fdatasync of {} failed at close: {}",
                    file.path(), e.getMessage());
        } finally {
            try {
                file.close();
            } catch (PosixException e) {
                org.slf4j.LoggerFactory.getLogger(DirectFileStore.class).error("close of {} failed: {}",
                        file.path(), e.getMessage());
            }
        }
    }
}
