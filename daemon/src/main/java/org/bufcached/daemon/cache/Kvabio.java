package org.bufcached.daemon.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * KVABIO in user space. A buffer's "mapping" is its address inside a mapped
 * window; a "CPU" is a worker thread ({@link WorkerThreads}). B_KVABIO on a buffer
 * says the mapping may not yet have been validated by every thread; the bits of
 * {@code b_cpumask} say which threads have.
 *
 * <p>Validating means checking that the window is still mapped and is the very
 * mapping the buffer was associated with (its generation): memory is coherent
 * between threads here, so what a kernel does with TLB invalidations reduces to
 * proving that the address is still safe to touch. Doing it once per thread per
 * association, instead of on every access, is the saving that the counters show,
 * and it is why the hot path needs no lock: a thread that finds its own bit set
 * touches the memory straight away, and nothing can unmap the window while the
 * buffer is held (the window's reference) and the thread has not passed a
 * quiescent point (the window's grace period).
 *
 * <p>The rules of the seed commit, kept here:
 * <ul>
 * <li>{@link #bkvareset} whenever a buffer is (re)associated: the cpumask is
 *     cleared when the mapping changes (and by vfs_vmio_release), never or'd into
 *     (the lwbuf review's point).</li>
 * <li>{@link #bkvasync} before a thread touches the buffer's memory.</li>
 * <li>{@link #bkvasync_all} before the memory reaches code that does not call
 *     bkvasync; it is the only way to clear B_KVABIO.</li>
 * <li>B_KVABIO may be set at any time (the flushers do) as long as the cpumask
 *     stays correct.</li>
 * </ul>
 */
public final class Kvabio {
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final WorkerThreads threads;
    private final LongAdder syncsDone = new LongAdder();
    private final LongAdder syncsAvoided = new LongAdder();

    public Kvabio(WorkerThreads threads) {
        this.threads = threads;
    }

    /**
     * The buffer's mapping changed; the caller holds it exclusively and chose
     * B_KVABIO. With B_KVABIO no thread has validated it yet; without, it must be
     * valid for every thread at once, so it is validated here for all.
     */
    public void bkvareset(Buf bp) {
        if (bp.isSet(Buf.B_KVABIO)) {
            clearCpumask(bp);
        } else {
            validate(bp);
            setAll(bp);
        }
    }

    /** The calling thread is about to touch the buffer's memory. */
    public void bkvasync(Buf bp) {
        int index = threads.index();
        if (bp.isSet(Buf.B_KVABIO) && !has(bp.cpumask, index)) {
            validate(bp);
            set(bp.cpumask, index);
            syncsDone.increment();
        } else {
            syncsAvoided.increment();
        }
    }

    /**
     * The buffer's memory goes to code that does not call bkvasync: validate it for
     * every thread, then clear B_KVABIO. The only way B_KVABIO is cleared.
     */
    public void bkvasync_all(Buf bp) {
        if (bp.isSet(Buf.B_KVABIO) && !hasAll(bp)) {
            validate(bp);
            setAll(bp);
            syncsDone.increment();
        } else {
            syncsAvoided.increment();
        }
        bp.clearFlags(Buf.B_KVABIO);
    }

    /** vfs_vmio_release's part, and bkvareset's: the mapping changes, no thread has it. */
    void clearCpumask(Buf bp) {
        long[] mask = bp.cpumask;
        for (int i = 0; i < mask.length; i++) {
            WORDS.setVolatile(mask, i, 0L);
        }
    }

    static boolean has(long[] mask, int index) {
        return ((long) WORDS.getVolatile(mask, index >>> 6) & (1L << (index & 63))) != 0;
    }

    private static void set(long[] mask, int index) {
        int w = index >>> 6;
        long bit = 1L << (index & 63);
        long old;
        do {
            old = (long) WORDS.getVolatile(mask, w);
        } while ((old & bit) == 0 && !WORDS.compareAndSet(mask, w, old, old | bit));
    }

    private boolean hasAll(Buf bp) {
        int n = threads.count();
        for (int i = 0; i < n; i++) {
            if (!has(bp.cpumask, i)) {
                return false;
            }
        }
        return true;
    }

    private void setAll(Buf bp) {
        int n = threads.count();
        for (int i = 0; i < n; i++) {
            set(bp.cpumask, i);
        }
    }

    private static void validate(Buf bp) {
        Window w = bp.windowRef;
        if (w == null || !w.mapping().isMapped() || w.generation() != bp.mapgen) {
            throw new IllegalStateException("bkvasync: stale mapping for " + bp);
        }
    }

    public long syncsDone() {
        return syncsDone.sum();
    }

    public long syncsAvoided() {
        return syncsAvoided.sum();
    }
}
