package org.bufcached.daemon.io;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayDeque;
import org.bufcached.daemon.store.Errno;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The io_uring engine: file operations go to the loop's own ring (Netty's
 * io_uring transport, through its public {@link IoUringIoHandle} and
 * {@link IoUringIoOps}), and their completions come back on the same loop, the
 * seed's biodone without a thread hop. The kernel runs an operation inline when
 * it can (a write into the page cache) and in its own workers when it would block
 * (fdatasync, a read from the disk), never on a JVM thread.
 *
 * <p>Confined to its loop: no field needs a lock. Each operation in flight holds a
 * slot, whose number travels as the ring's user data (Netty's fast path packs 16
 * bits); more operations than slots wait in {@link #backlog} until slots free up.
 * Only what no ring operation covers goes to the {@link BlockingPool}.
 */
final class IoUringFileIo implements FileIo, IoUringIoHandle {
    private static final Logger LOG = LoggerFactory.getLogger(IoUringFileIo.class);

    // Opcodes and flags of <linux/io_uring.h>.
    private static final byte IORING_OP_FSYNC = 3;
    private static final byte IORING_OP_SYNC_FILE_RANGE = 8;
    private static final byte IORING_OP_FALLOCATE = 17;
    private static final byte IORING_OP_READ = 22;
    private static final byte IORING_OP_WRITE = 23;
    private static final byte IORING_OP_FADVISE = 24;
    private static final byte IORING_OP_MADVISE = 25;
    private static final int IORING_FSYNC_DATASYNC = 1;

    /** Operations in flight per loop; the user data of the fast path holds up to 2^15 slots. */
    static final int SLOTS = 4096;

    private final IoEventLoop loop;
    private final FileIo offloader;
    private final IoCompletion[] slots = new IoCompletion[SLOTS];
    private final int[] freeSlots = new int[SLOTS];
    private int freeCount;
    /** Operations waiting for a slot, as {@link Pending}s (rare: only past SLOTS in flight). */
    private final ArrayDeque<Pending> backlog = new ArrayDeque<>();
    private IoRegistration registration;
    private boolean closed;

    private IoUringFileIo(IoEventLoop loop, BlockingPool pool) {
        this.loop = loop;
        this.offloader = new PoolFileIo(loop, pool, pool);
        for (int i = 0; i < SLOTS; i++) {
            freeSlots[i] = SLOTS - 1 - i;
        }
        freeCount = SLOTS;
    }

    /** Registers a new instance on {@code loop}'s ring; waits for the registration (not on the loop). */
    static IoUringFileIo register(IoEventLoop loop, BlockingPool pool) {
        IoUringFileIo io = new IoUringFileIo(loop, pool);
        io.registration = loop.register(io).syncUninterruptibly().getNow();
        return io;
    }

    @Override
    public EventExecutor loop() {
        return loop;
    }

    @Override
    public void write(int fd, long address, int length, long offset, IoCompletion done) {
        submit(IORING_OP_WRITE, fd, offset, address, length, 0, done);
    }

    @Override
    public void read(int fd, long address, int length, long offset, int rwFlags, IoCompletion done) {
        submit(IORING_OP_READ, fd, offset, address, length, rwFlags, done);
    }

    @Override
    public void fdatasync(int fd, IoCompletion done) {
        submit(IORING_OP_FSYNC, fd, 0, 0, 0, IORING_FSYNC_DATASYNC, done);
    }

    @Override
    public void syncFileRange(int fd, long offset, int length, int flags, IoCompletion done) {
        submit(IORING_OP_SYNC_FILE_RANGE, fd, offset, 0, length, flags, done);
    }

    @Override
    public void fallocate(int fd, int mode, long offset, long length, IoCompletion done) {
        // As liburing's io_uring_prep_fallocate: the length travels in addr, the mode in len.
        submit(IORING_OP_FALLOCATE, fd, offset, length, mode, 0, done);
    }

    @Override
    public void fadvise(int fd, long offset, int length, int advice, IoCompletion done) {
        submit(IORING_OP_FADVISE, fd, offset, 0, length, advice, done);
    }

    @Override
    public void madvise(long address, int length, int advice, IoCompletion done) {
        submit(IORING_OP_MADVISE, -1, 0, address, length, advice, done);
    }

    @Override
    public void offload(BlockingCall call, IoCompletion done) {
        offloader.offload(call, done);
    }

    private void submit(byte op, int fd, long union1, long union2, int len, int union3, IoCompletion done) {
        if (closed) {
            fail(done, -Errno.ESHUTDOWN);
            return;
        }
        if (freeCount == 0) {
            backlog.add(new Pending(op, fd, union1, union2, len, union3, done));
            return;
        }
        int slot = freeSlots[--freeCount];
        slots[slot] = done;
        long id = registration.submit(new IoUringIoOps(op, (byte) 0, (short) 0, fd, union1, union2, len, union3,
                (long) slot, (short) 0, (short) 0, 0, 0L));
        if (id == 0) {
            // The registration was cancelled: the loop is shutting down.
            slots[slot] = null;
            freeSlots[freeCount++] = slot;
            fail(done, -Errno.ESHUTDOWN);
        }
    }

    /** A completion that cannot come from the ring still arrives later, on the loop. */
    private void fail(IoCompletion done, long result) {
        loop.execute(() -> done.complete(result));
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        IoUringIoEvent e = (IoUringIoEvent) event;
        int slot = (int) e.userData();
        IoCompletion done = slots[slot];
        slots[slot] = null;
        freeSlots[freeCount++] = slot;
        if (!backlog.isEmpty()) {
            Pending p = backlog.poll();
            submit(p.op, p.fd, p.union1, p.union2, p.len, p.union3, p.done);
        }
        if (done == null) {
            LOG.error("io_uring completion for an empty slot: {}", e);
            return;
        }
        try {
            done.complete(e.res());
        } catch (Throwable t) {
            LOG.error("a file I/O completion failed", t);
        }
    }

    @Override
    public void close() {
        closed = true;
        Pending p;
        while ((p = backlog.poll()) != null) {
            fail(p.done, -Errno.ESHUTDOWN);
        }
    }

    private static final class Pending {
        final byte op;
        final int fd;
        final long union1;
        final long union2;
        final int len;
        final int union3;
        final IoCompletion done;

        Pending(byte op, int fd, long union1, long union2, int len, int union3, IoCompletion done) {
            this.op = op;
            this.fd = fd;
            this.union1 = union1;
            this.union2 = union2;
            this.len = len;
            this.union3 = union3;
            this.done = done;
        }
    }
}
