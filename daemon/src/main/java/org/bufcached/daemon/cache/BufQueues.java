package org.bufcached.daemon.cache;

import java.util.concurrent.locks.ReentrantLock;

/**
 * One set of buffer queues ({@code bufpcpu[cpu]}): there is one per event loop, so
 * loops allocate and release buffers without contending with each other. The
 * queues are intrusive doubly linked lists (TAILQ) through {@link Buf#qprev} and
 * {@link Buf#qnext}. The lock is short: held for list surgery and try-locks only,
 * never across I/O.
 */
final class BufQueues {
    static final int NONE = -1;
    static final int EMPTY = 0;
    static final int CLEAN = 1;
    static final int DIRTY = 2;
    static final int DIRTY_HW = 3;
    static final int COUNT = 4;

    final int cpu;
    final ReentrantLock spin = new ReentrantLock();
    private final Buf[] heads = new Buf[COUNT];
    private final Buf[] tails = new Buf[COUNT];
    private final int[] lengths = new int[COUNT];

    BufQueues(int cpu) {
        this.cpu = cpu;
    }

    Buf first(int q) {
        return heads[q];
    }

    static Buf next(Buf bp) {
        return bp.qnext;
    }

    int length(int q) {
        return lengths[q];
    }

    /** TAILQ_INSERT_TAIL; caller holds {@link #spin}. */
    void insertTail(int q, Buf bp) {
        checkFree(bp);
        bp.qindex = q;
        bp.qcpu = cpu;
        bp.qnext = null;
        bp.qprev = tails[q];
        if (tails[q] == null) {
            heads[q] = bp;
        } else {
            tails[q].qnext = bp;
        }
        tails[q] = bp;
        lengths[q]++;
    }

    /** TAILQ_INSERT_HEAD; caller holds {@link #spin}. */
    void insertHead(int q, Buf bp) {
        checkFree(bp);
        bp.qindex = q;
        bp.qcpu = cpu;
        bp.qprev = null;
        bp.qnext = heads[q];
        if (heads[q] == null) {
            tails[q] = bp;
        } else {
            heads[q].qprev = bp;
        }
        heads[q] = bp;
        lengths[q]++;
    }

    /** TAILQ_INSERT_AFTER; caller holds {@link #spin}. */
    void insertAfter(Buf after, Buf bp) {
        checkFree(bp);
        int q = after.qindex;
        bp.qindex = q;
        bp.qcpu = cpu;
        bp.qprev = after;
        bp.qnext = after.qnext;
        if (after.qnext == null) {
            tails[q] = bp;
        } else {
            after.qnext.qprev = bp;
        }
        after.qnext = bp;
        lengths[q]++;
    }

    /** The seed's "free buffer onto another queue" panic: a second insert would corrupt the list. */
    private static void checkFree(Buf bp) {
        if (bp.qindex != NONE) {
            throw new IllegalStateException("buffer queued twice: " + bp);
        }
    }

    /** _bremfree: takes the buffer off its queue; caller holds {@link #spin}. */
    void remove(Buf bp) {
        int q = bp.qindex;
        if (q == NONE) {
            throw new IllegalStateException("bremfree: " + bp + " is on no queue");
        }
        if (bp.qprev == null) {
            heads[q] = bp.qnext;
        } else {
            bp.qprev.qnext = bp.qnext;
        }
        if (bp.qnext == null) {
            tails[q] = bp.qprev;
        } else {
            bp.qnext.qprev = bp.qprev;
        }
        bp.qprev = null;
        bp.qnext = null;
        bp.qindex = NONE;
        lengths[q]--;
    }
}
