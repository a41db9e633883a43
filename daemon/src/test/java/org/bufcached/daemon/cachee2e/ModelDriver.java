package org.bufcached.daemon.cachee2e;

import static org.bufcached.daemon.testing.NbdWire.CMD_CACHE;
import static org.bufcached.daemon.testing.NbdWire.CMD_FLAG_FUA;
import static org.bufcached.daemon.testing.NbdWire.CMD_FLAG_NO_HOLE;
import static org.bufcached.daemon.testing.NbdWire.CMD_FLUSH;
import static org.bufcached.daemon.testing.NbdWire.CMD_READ;
import static org.bufcached.daemon.testing.NbdWire.CMD_TRIM;
import static org.bufcached.daemon.testing.NbdWire.CMD_WRITE;
import static org.bufcached.daemon.testing.NbdWire.CMD_WRITE_ZEROES;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BooleanSupplier;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;

/**
 * Drives several NBD connections with random, pipelined requests against one
 * export and checks every READ against an in-memory model of the export.
 *
 * <p>How concurrent answers stay unambiguous: the export is cut into one private
 * region per connection (boundaries deliberately not aligned to pages, buffers or
 * windows, so neighbours share buffers) and one shared region at the end. Only
 * its owner reads or changes a private region. The shared region is guarded by a
 * read-write lock held across whole batches: any number of connections read it at
 * once, one at a time changes it. Inside a batch (requests sent back to back,
 * replies collected in whatever order they come) the ranges are pairwise disjoint,
 * so the NBD rule that overlapping in-flight requests have no defined order never
 * comes into play; the model is updated once every reply of the batch is in.
 *
 * <p>TRIM is modelled as zeroes: the daemon punches a hole, and the temporary
 * directories these tests use are on file systems that support that.
 */
final class ModelDriver {
    /** Opens a connection in the transmission phase; {@code structured} asks for structured replies. */
    interface Connector {
        RawClient open(int index, boolean structured) throws IOException;
    }

    static final class Stats {
        final LongAdder reads = new LongAdder();
        final LongAdder writes = new LongAdder();
        final LongAdder fuaWrites = new LongAdder();
        final LongAdder trims = new LongAdder();
        final LongAdder zeroes = new LongAdder();
        final LongAdder flushes = new LongAdder();
        final LongAdder caches = new LongAdder();
        final LongAdder bytesRead = new LongAdder();
        final LongAdder bytesWritten = new LongAdder();
        final LongAdder batches = new LongAdder();

        @Override
        public String toString() {
            return "batches=" + batches + " reads=" + reads + " (" + (bytesRead.sum() >> 20) + " MiB) writes=" + writes
                    + " (fua " + fuaWrites + ", " + (bytesWritten.sum() >> 20) + " MiB) trims=" + trims
                    + " zeroes=" + zeroes + " flushes=" + flushes + " caches=" + caches;
        }
    }

    private final long size;
    private final byte[] model;
    private final long seed;
    private final int connections;
    private final int maxLength;
    private final int maxDepth;
    private final long[] boundaries;
    private final long sharedStart;
    private final long[] regionStart;
    private final long[] regionEnd;
    private final ReentrantReadWriteLock shared = new ReentrantReadWriteLock(true);
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    final Stats stats = new Stats();

    /**
     * @param initial    the export's content at the start (becomes the model; not copied)
     * @param boundaries sizes whose multiples are interesting to cross (buffer size, window size, ...)
     */
    ModelDriver(byte[] initial, long seed, int connections, int maxLength, int maxDepth, long... boundaries) {
        this.size = initial.length;
        this.model = initial;
        this.seed = seed;
        this.connections = connections;
        this.maxLength = maxLength;
        this.maxDepth = maxDepth;
        this.boundaries = boundaries;
        this.sharedStart = size - size / 4 + 513;
        this.regionStart = new long[connections];
        this.regionEnd = new long[connections];
        for (int i = 0; i < connections; i++) {
            regionStart[i] = i == 0 ? 0 : regionEnd[i - 1];
            regionEnd[i] = i == connections - 1 ? sharedStart : (i + 1) * sharedStart / connections + 777L * (i + 1);
        }
    }

    byte[] model() {
        return model;
    }

    long seed() {
        return seed;
    }

    /**
     * Runs every connection until {@code duration} has passed or {@code keepGoing}
     * says no; throws the first failure, with the seed in the message.
     */
    void run(Connector connector, Duration duration, BooleanSupplier keepGoing) throws InterruptedException {
        long deadline = System.nanoTime() + duration.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            int index = i;
            Thread t = new Thread(() -> {
                try (RawClient c = connector.open(index, index % 2 == 0)) {
                    Random rnd = new Random(seed * 31 + index);
                    while (!stop.get() && System.nanoTime() < deadline && keepGoing.getAsBoolean()) {
                        batch(c, index, rnd);
                    }
                    c.disconnect();
                } catch (Throwable e) {
                    if (failure.compareAndSet(null, e)) {
                        stop.set(true);
                    }
                }
            }, "model-conn-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(duration.toMillis() + 60_000);
            if (t.isAlive()) {
                stop.set(true);
                failure.compareAndSet(null, new AssertionError(t.getName() + " still running well after the deadline"));
            }
        }
        Throwable f = failure.get();
        if (f != null) {
            throw new AssertionError("model test failed (seed " + seed + ", " + stats + "): " + f.getMessage(), f);
        }
    }

    /** One request of a batch. */
    private record Op(int type, int flags, long offset, int length, byte[] payload) {
        String describe() {
            String name = switch (type) {
                case CMD_READ -> "READ";
                case CMD_WRITE -> "WRITE";
                case CMD_TRIM -> "TRIM";
                case CMD_WRITE_ZEROES -> "WRITE_ZEROES";
                case CMD_FLUSH -> "FLUSH";
                case CMD_CACHE -> "CACHE";
                default -> "CMD" + type;
            };
            return name + (flags != 0 ? "/flags=" + flags : "") + " [" + offset + ", +" + length + ")";
        }
    }

    private void batch(RawClient c, int index, Random rnd) throws IOException {
        boolean inShared = rnd.nextInt(10) < 3;
        long lo = inShared ? sharedStart : regionStart[index];
        long hi = inShared ? size : regionEnd[index];
        int depth = 1 + rnd.nextInt(maxDepth);
        List<Op> ops = new ArrayList<>();
        List<long[]> ranges = new ArrayList<>();
        boolean changes = false;
        for (int k = 0; k < depth; k++) {
            int p = rnd.nextInt(100);
            int type = p < 42 ? CMD_READ : p < 74 ? CMD_WRITE : p < 81 ? CMD_TRIM : p < 90 ? CMD_WRITE_ZEROES
                    : p < 95 ? CMD_FLUSH : CMD_CACHE;
            if (type == CMD_FLUSH) {
                ops.add(new Op(type, 0, 0, 0, null));
                continue;
            }
            long[] r = null;
            for (int attempt = 0; attempt < 4 && r == null; attempt++) {
                long[] candidate = range(rnd, lo, hi);
                if (ranges.stream().noneMatch(x -> x[0] < candidate[1] && candidate[0] < x[1])) {
                    r = candidate;
                }
            }
            if (r == null) {
                continue;
            }
            ranges.add(r);
            int length = (int) (r[1] - r[0]);
            int flags = 0;
            byte[] payload = null;
            switch (type) {
                case CMD_WRITE -> {
                    payload = new byte[length];
                    rnd.nextBytes(payload);
                    flags = rnd.nextInt(8) == 0 ? CMD_FLAG_FUA : 0;
                }
                case CMD_TRIM -> flags = rnd.nextInt(6) == 0 ? CMD_FLAG_FUA : 0;
                case CMD_WRITE_ZEROES -> flags = (rnd.nextBoolean() ? CMD_FLAG_NO_HOLE : 0)
                        | (rnd.nextInt(6) == 0 ? CMD_FLAG_FUA : 0);
                default -> {
                }
            }
            changes |= type == CMD_WRITE || type == CMD_TRIM || type == CMD_WRITE_ZEROES;
            ops.add(new Op(type, flags, r[0], length, payload));
        }
        if (ops.isEmpty()) {
            return;
        }
        Lock lock = !inShared ? null : changes ? shared.writeLock() : shared.readLock();
        if (lock != null) {
            lock.lock();
        }
        try {
            Map<Long, Op> pending = new HashMap<>();
            for (Op op : ops) {
                pending.put(c.send(op.type(), op.flags(), op.offset(), op.length(), op.payload()), op);
            }
            Map<Long, Reply> replies = new HashMap<>();
            while (replies.size() < ops.size()) {
                Reply r = c.readReply();
                Op op = pending.get(r.cookie());
                if (op == null) {
                    throw new AssertionError("reply to unknown cookie " + r.cookie());
                }
                if (replies.put(r.cookie(), r) != null) {
                    throw new AssertionError("second reply to " + op.describe());
                }
                if (r.error() != 0) {
                    throw new AssertionError("conn " + index + ": " + op.describe() + " failed with error " + r.error()
                            + " " + r.errorMessage());
                }
                if (op.type() == CMD_READ) {
                    check(index, op, r.data());
                }
            }
            for (Op op : ops) {
                apply(op);
            }
            stats.batches.increment();
        } finally {
            if (lock != null) {
                lock.unlock();
            }
        }
    }

    private void check(int index, Op op, byte[] got) {
        stats.reads.increment();
        stats.bytesRead.add(op.length());
        int off = (int) op.offset();
        if (!Arrays.equals(got, 0, op.length(), model, off, off + op.length())) {
            int i = Arrays.mismatch(got, 0, op.length(), model, off, off + op.length());
            int to = i;
            while (to < op.length() && got[to] != model[off + to]) {
                to++;
            }
            throw new AssertionError(String.format(
                    "conn %d: %s returned wrong data: first difference at export offset %d (byte %d of the read):"
                            + " got 0x%02x, expected 0x%02x; %d differing bytes from there on; got %s, model %s",
                    index, op.describe(), off + i, i, got[i], model[off + i], to - i,
                    hex(got, i, 16), hex(model, off + i, 16)));
        }
    }

    private static String hex(byte[] b, int from, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = from; i < Math.min(b.length, from + n); i++) {
            s.append(String.format("%02x", b[i]));
        }
        return s.toString();
    }

    private void apply(Op op) {
        int off = (int) op.offset();
        switch (op.type()) {
            case CMD_WRITE -> {
                System.arraycopy(op.payload(), 0, model, off, op.length());
                stats.writes.increment();
                stats.bytesWritten.add(op.length());
                if (op.flags() != 0) {
                    stats.fuaWrites.increment();
                }
            }
            case CMD_TRIM -> {
                Arrays.fill(model, off, off + op.length(), (byte) 0);
                stats.trims.increment();
            }
            case CMD_WRITE_ZEROES -> {
                Arrays.fill(model, off, off + op.length(), (byte) 0);
                stats.zeroes.increment();
            }
            case CMD_FLUSH -> stats.flushes.increment();
            case CMD_CACHE -> stats.caches.increment();
            default -> {
            }
        }
    }

    /** A random range inside [lo, hi): small and unaligned, page-aligned, or straddling a buffer/window boundary. */
    private long[] range(Random rnd, long lo, long hi) {
        long span = hi - lo;
        int kind = rnd.nextInt(10);
        long off;
        long len;
        if (kind < 4 && boundaries.length > 0) {
            long unit = boundaries[rnd.nextInt(boundaries.length)];
            long first = (lo / unit + 1) * unit;
            if (first >= hi) {
                off = lo + (long) (rnd.nextDouble() * span);
                len = 1 + rnd.nextInt(4096);
            } else {
                long count = (hi - 1 - first) / unit + 1;
                long b = first + unit * (long) (rnd.nextDouble() * count);
                len = 2 + rnd.nextInt(maxLength - 1);
                off = b - 1 - rnd.nextInt((int) Math.min(len - 1, Integer.MAX_VALUE));
            }
        } else if (kind < 7) {
            off = lo + (long) (rnd.nextDouble() * span);
            len = 1 + rnd.nextInt(rnd.nextBoolean() ? 600 : 9000);
        } else {
            off = (lo + (long) (rnd.nextDouble() * span)) & ~4095L;
            len = 4096L * (1 + rnd.nextInt(Math.max(1, maxLength / 4096)));
        }
        off = Math.max(lo, Math.min(off, hi - 1));
        len = Math.max(1, Math.min(len, hi - off));
        return new long[] {off, off + len};
    }

    /** Reads the whole export back in {@code chunk}-byte reads on one connection and compares it with the model. */
    void verifyAll(RawClient c, int chunk) throws IOException {
        for (long off = 0; off < size; off += chunk) {
            int n = (int) Math.min(chunk, size - off);
            Reply r = c.read(off, n);
            if (r.error() != 0) {
                throw new AssertionError("final READ [" + off + ", +" + n + ") failed with error " + r.error()
                        + " (seed " + seed + ")");
            }
            check(-1, new Op(CMD_READ, 0, off, n, null), r.data());
        }
    }

    /** Compares bytes read from the backing file (not through the daemon) with the model. */
    void verifyFile(byte[] file) {
        if (!Arrays.equals(file, model)) {
            int i = Arrays.mismatch(file, model);
            throw new AssertionError(String.format("backing file differs from the model at offset %d: file 0x%02x,"
                    + " model 0x%02x (seed %d)", i, file[i], model[i], seed));
        }
    }
}
