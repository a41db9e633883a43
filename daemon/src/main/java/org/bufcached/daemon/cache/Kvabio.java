package org.bufcached.daemon.cache;

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
 * association, instead of on every access, is the saving that the counters show.
 *
 * <p>The rules of the seed commit, kept here:
 * <ul>
 * <li>{@link #bkvareset} whenever a buffer is (re)associated: the cpumask is
 *     cleared when the mapping changes (and by vfs_vmio_release).</li>
 * <li>{@link #bkvasync} before a thread touches the buffer's memory.</li>
 * <li>{@link #bkvasync_all} before the memory reaches code that does not call
 *     bkvasync; it is the only way to clear B_KVABIO.</li>
 * <li>B_KVABIO may be set at any time (the flushers do) as long as the cpumask
 *     stays correct.</li>
 * </ul>
 */
public final class Kvabio {
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
            bp.cpumask.set(0);
        } else {
            validate(bp);
            bp.cpumask.set(threads.activeMask());
        }
    }

    /** The calling thread is about to touch the buffer's memory. */
    public void bkvasync(Buf bp) {
        long bit = 1L << threads.index();
        if (bp.isSet(Buf.B_KVABIO) && (bp.cpumask.get() & bit) == 0) {
            validate(bp);
            bp.cpumask.getAndUpdate(m -> m | bit);
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
        long all = threads.activeMask();
        if (bp.isSet(Buf.B_KVABIO) && (bp.cpumask.get() & all) != all) {
            validate(bp);
            bp.cpumask.getAndUpdate(m -> m | all);
            syncsDone.increment();
        } else {
            syncsAvoided.increment();
        }
        bp.clearFlags(Buf.B_KVABIO);
    }

    /** vfs_vmio_release's part: the mapping is going away, no thread has it. */
    void clearCpumask(Buf bp) {
        bp.cpumask.set(0);
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
