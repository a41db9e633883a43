package org.bufcached.daemon.io;

import io.netty.util.Recycler;
import io.netty.util.concurrent.EventExecutor;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.PosixException;
import org.bufcached.daemon.store.Syscalls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fallback engine, where io_uring is not available: each operation is one
 * system call on a {@link BlockingPool} thread, and its completion is posted back
 * to the loop. The calls and results are exactly those of the ring, so the cache
 * above cannot tell the engines apart. Tasks are pooled: a steady stream of
 * operations allocates nothing.
 */
final class PoolFileIo implements FileIo {
    private static final Logger LOG = LoggerFactory.getLogger(PoolFileIo.class);

    private final EventExecutor loop;
    private final BlockingPool pool;
    private final BlockingPool writeBack;

    /**
     * {@code writeBack}: the lane of the flushers' sync_file_range, so that a queue
     * of write-backs to a failing or slow disk never delays a client's request (a
     * FLUSH would otherwise wait behind every write-back queued before it).
     */
    PoolFileIo(EventExecutor loop, BlockingPool pool, BlockingPool writeBack) {
        this.loop = loop;
        this.pool = pool;
        this.writeBack = writeBack;
    }

    @Override
    public EventExecutor loop() {
        return loop;
    }

    @Override
    public void write(int fd, long address, int length, long offset, IoCompletion done) {
        submit(pool, Task.WRITE, fd, address, length, offset, 0, done, null);
    }

    @Override
    public void read(int fd, long address, int length, long offset, int rwFlags, IoCompletion done) {
        submit(pool, Task.READ, fd, address, length, offset, rwFlags, done, null);
    }

    @Override
    public void fdatasync(int fd, IoCompletion done) {
        submit(pool, Task.FDATASYNC, fd, 0, 0, 0, 0, done, null);
    }

    @Override
    public void syncFileRange(int fd, long offset, int length, int flags, IoCompletion done) {
        submit(writeBack, Task.SYNC_FILE_RANGE, fd, 0, length, offset, flags, done, null);
    }

    @Override
    public void fallocate(int fd, int mode, long offset, long length, IoCompletion done) {
        submit(pool, Task.FALLOCATE, fd, length, 0, offset, mode, done, null);
    }

    @Override
    public void fadvise(int fd, long offset, int length, int advice, IoCompletion done) {
        submit(pool, Task.FADVISE, fd, 0, length, offset, advice, done, null);
    }

    @Override
    public void madvise(long address, int length, int advice, IoCompletion done) {
        submit(pool, Task.MADVISE, -1, address, length, 0, advice, done, null);
    }

    @Override
    public void offload(BlockingCall call, IoCompletion done) {
        submit(pool, Task.OFFLOAD, -1, 0, 0, 0, 0, done, call);
    }

    private void submit(BlockingPool lane, int op, int fd, long address, int length, long offset, int flags, IoCompletion done,
                        BlockingCall call) {
        Task t = Task.RECYCLER.get();
        t.op = op;
        t.fd = fd;
        t.address = address;
        t.length = length;
        t.offset = offset;
        t.flags = flags;
        t.done = done;
        t.call = call;
        t.loop = loop;
        t.ran = false;
        lane.execute(t);
    }

    /** One operation: runs first on a pool thread (the call), then on the loop (the completion). */
    private static final class Task implements Runnable {
        static final int WRITE = 0;
        static final int READ = 1;
        static final int FDATASYNC = 2;
        static final int SYNC_FILE_RANGE = 3;
        static final int FALLOCATE = 4;
        static final int FADVISE = 5;
        static final int MADVISE = 6;
        static final int OFFLOAD = 7;

        static final Recycler<Task> RECYCLER = new Recycler<>() {
            @Override
            protected Task newObject(Handle<Task> handle) {
                return new Task(handle);
            }
        };

        private final Recycler.Handle<Task> handle;
        int op;
        int fd;
        long address;
        int length;
        long offset;
        int flags;
        IoCompletion done;
        BlockingCall call;
        EventExecutor loop;
        boolean ran;
        long result;

        private Task(Recycler.Handle<Task> handle) {
            this.handle = handle;
        }

        @Override
        public void run() {
            if (!ran) {
                ran = true;
                result = call();
                loop.execute(this);
                return;
            }
            IoCompletion d = done;
            long r = result;
            done = null;
            call = null;
            loop = null;
            handle.recycle(this);
            try {
                d.complete(r);
            } catch (Throwable e) {
                LOG.error("a file I/O completion failed", e);
            }
        }

        private long call() {
            try {
                switch (op) {
                    case WRITE:
                        return Syscalls.pwrite(fd, address, length, offset);
                    case READ:
                        return Syscalls.pread(fd, address, length, offset, flags);
                    case FDATASYNC:
                        return Syscalls.fdatasync(fd);
                    case SYNC_FILE_RANGE:
                        return Syscalls.syncFileRange(fd, offset, length, flags);
                    case FALLOCATE:
                        return Syscalls.fallocate(fd, flags, offset, address);
                    case FADVISE:
                        return Syscalls.fadvise(fd, offset, length, flags);
                    case MADVISE:
                        return Syscalls.madvise(address, length, flags);
                    case OFFLOAD:
                        return call.call();
                    default:
                        throw new IllegalStateException("unknown operation " + op);
                }
            } catch (PosixException e) {
                return -e.errno();
            } catch (RuntimeException | Error e) {
                // A bug, not an I/O error: say so, and let the request fail rather than hang.
                LOG.error("file operation {} failed", op, e);
                return -Errno.EIO;
            }
        }
    }
}
