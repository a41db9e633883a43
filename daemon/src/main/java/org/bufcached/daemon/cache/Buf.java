package org.bufcached.daemon.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A buffer header ({@code struct buf}): one block of one export, mapped through a
 * window of the backing file. The data never lives here; {@link #data()} is the
 * address of the block inside the window.
 *
 * <p>Who may touch what (the whole contract is in {@link BufCache}):
 * <ul>
 * <li>{@link #lock} holder: the identity fields ({@link #file}, {@link #blkno},
 *     {@link #loffset}, {@link #size}, {@link #windowRef}, {@link #data},
 *     {@link #mapgen}, {@link #association}), {@link #valid}, {@link #dirty},
 *     every flag but B_AGE. {@code file} and {@code blkno} are volatile so that a
 *     lookup without the lock can recheck them after taking a hold.</li>
 * <li>The owning {@link BufQueues}' lock: {@link #qindex}, {@link #qcpu},
 *     {@link #qprev}, {@link #qnext}, and setting B_AGE (getnewbuf's second
 *     chance); a hit clears B_AGE with only a hold, a hint that may race.</li>
 * <li>Anyone: {@link #refs} (b_refs: atomic; a hold keeps the buffer from being
 *     reused and its window mapped, not from being invalidated), and each
 *     thread's own bit of {@link #cpumask}, set by compare-and-set; the lock
 *     holder clears the whole mask when the mapping changes.</li>
 * </ul>
 * Flags are changed with compare-and-set, so a flag changed without the lock
 * (B_AGE) never loses a concurrent change of another.
 */
public final class Buf {
    /** Delayed write: pages written that the flushers have not started writing back. */
    public static final int B_DELWRI = 1 << 0;
    /** Every page of the block is known to be in memory (all of {@link #valid}). */
    public static final int B_CACHE = 1 << 1;
    /** The contents are no good: the buffer goes back to EMPTY when released. */
    public static final int B_INVAL = 1 << 2;
    /** Clean and already given its second chance: the next getnewbuf may take it. */
    public static final int B_AGE = 1 << 3;
    /** Of an export with flush-class heavy: DIRTY_HW, written back by buf_daemon_hw only. */
    public static final int B_HEAVY = 1 << 4;
    /** The mapping may not be valid on every thread yet: bkvasync before touching it. */
    public static final int B_KVABIO = 1 << 5;
    /** Do not keep the association when released (invalidation of a range). */
    public static final int B_NOCACHE = 1 << 6;
    /** A flusher's place-holder in a queue, never a real buffer. */
    public static final int B_MARKER = 1 << 7;

    private static final VarHandle FLAGS;

    static {
        try {
            FLAGS = MethodHandles.lookup().findVarHandle(Buf.class, "flags", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through FLAGS
    private volatile int flags;
    final AtomicInteger refs = new AtomicInteger();
    /** b_cpumask: which worker threads validated the mapping (bits by {@link WorkerThreads} index). */
    final long[] cpumask;
    final BufLock lock = new BufLock();

    // Identity, valid while associated (set under the lock, read after findblk's recheck).
    volatile CachedFile file;
    volatile long blkno = -1;
    long loffset;
    int size;
    /** The window the block is mapped through; it stays referenced until the header is reused. */
    Window windowRef;
    long data;
    /** Generation of the window mapping, checked by bkvasync. */
    long mapgen;

    // Queue linkage, guarded by the owning BufQueues' lock.
    int qindex = BufQueues.NONE;
    int qcpu;
    Buf qprev;
    Buf qnext;

    /**
     * Which pages of the block are known to be in memory (b_valid, one bit per
     * page as buf(9) keeps one per DEV_BSIZE): a read of valid pages touches no
     * cold page. B_CACHE is set when every page is valid.
     */
    volatile long valid;
    /** Which pages were written and not yet written back (b_dirty bits); accounted in dirtybufspace. */
    long dirty;

    /** Which association this is: bumped whenever the header is given a block. */
    long association;

    Buf(int qcpu, int cpumaskWords) {
        this.qcpu = qcpu;
        this.cpumask = new long[cpumaskWords];
        FLAGS.setVolatile(this, B_INVAL);
    }

    /** A marker of a flusher's walk, never a real buffer. */
    static Buf marker() {
        Buf m = new Buf(0, 1);
        m.setFlags(B_MARKER);
        return m;
    }

    public int flags() {
        return (int) FLAGS.getVolatile(this);
    }

    public boolean isSet(int flag) {
        return (flags() & flag) != 0;
    }

    void setFlags(int f) {
        int old;
        do {
            old = flags();
        } while (!FLAGS.compareAndSet(this, old, old | f));
    }

    void clearFlags(int f) {
        int old;
        do {
            old = flags();
        } while (!FLAGS.compareAndSet(this, old, old & ~f));
    }

    /** Replaces every flag, as getnewbuf does when it takes a buffer for reuse. */
    void resetFlags(int f) {
        FLAGS.setVolatile(this, f);
    }

    public int refs() {
        return refs.get();
    }

    /** The cpumask's first 64 threads, for logs and tests. */
    public long cpumask() {
        return cpumask[0];
    }

    /** Whether worker thread {@code index} has validated the mapping. */
    public boolean cpumaskHas(int index) {
        return Kvabio.has(cpumask, index);
    }

    public CachedFile file() {
        return file;
    }

    public long loffset() {
        return loffset;
    }

    public int size() {
        return size;
    }

    /** Address of the block's first byte in its window. */
    long data() {
        return data;
    }

    /** Offset of the block inside its window. */
    long windowOffset() {
        return loffset - windowRef.mapping().fileOffset();
    }

    @Override
    public String toString() {
        CachedFile f = file;
        return "Buf[" + (f == null ? "-" : f.name()) + " @" + loffset + " +" + size + " flags=0x"
                + Integer.toHexString(flags()) + " refs=" + refs.get() + " q=" + qindex + "/" + qcpu + "]";
    }

    /**
     * The buffer lock (BUF_LOCK): exclusive, never waited for by a thread. A request
     * that finds a buffer locked parks its continuation here and is resumed, on its
     * own event loop, when the holder unlocks.
     */
    static final class BufLock {
        private final AtomicInteger state = new AtomicInteger();
        private ArrayDeque<Runnable> waiters;

        boolean tryLock() {
            return state.get() == 0 && state.compareAndSet(0, 1);
        }

        boolean isLocked() {
            return state.get() != 0;
        }

        /**
         * Parks {@code resume} until the next unlock; returns false, without parking,
         * if the lock was free by the time the waiter was queued (the caller retries).
         */
        synchronized boolean park(Runnable resume) {
            if (state.get() == 0) {
                return false;
            }
            if (waiters == null) {
                waiters = new ArrayDeque<>(2);
            }
            waiters.add(resume);
            return true;
        }

        void unlock() {
            state.set(0);
            Runnable[] wake = drain();
            for (Runnable r : wake) {
                r.run();
            }
        }

        private synchronized Runnable[] drain() {
            if (waiters == null || waiters.isEmpty()) {
                return NONE;
            }
            Runnable[] all = waiters.toArray(NONE);
            waiters.clear();
            return all;
        }

        private static final Runnable[] NONE = new Runnable[0];
    }
}
