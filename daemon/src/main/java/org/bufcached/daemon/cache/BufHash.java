package org.bufcached.daemon.cache;

import io.netty.util.collection.LongObjectHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The buffers of one file by block number (the vnode's buffer tree). Striped, so
 * lookups on different blocks do not contend and there is no global lock; a
 * stripe's lock is held only for the map operation itself.
 */
final class BufHash {
    private static final int STRIPES = 64;

    private final ReentrantLock[] locks = new ReentrantLock[STRIPES];
    @SuppressWarnings("unchecked")
    private final LongObjectHashMap<Buf>[] maps = new LongObjectHashMap[STRIPES];

    BufHash() {
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantLock();
            maps[i] = new LongObjectHashMap<>();
        }
    }

    private static int stripe(long blkno) {
        long h = blkno * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 58);
    }

    /**
     * Looks the block up and, if found, holds the buffer (bqhold) before the stripe
     * is unlocked, so it cannot be reused while the caller looks at it.
     */
    Buf lookupHold(long blkno) {
        int s = stripe(blkno);
        ReentrantLock lock = locks[s];
        lock.lock();
        try {
            Buf bp = maps[s].get(blkno);
            if (bp != null) {
                bp.refs.incrementAndGet();
            }
            return bp;
        } finally {
            lock.unlock();
        }
    }

    /** Inserts unless the block already has a buffer; returns the one that won. */
    Buf insertIfAbsent(long blkno, Buf bp) {
        int s = stripe(blkno);
        ReentrantLock lock = locks[s];
        lock.lock();
        try {
            Buf existing = maps[s].get(blkno);
            if (existing != null) {
                return existing;
            }
            maps[s].put(blkno, bp);
            return bp;
        } finally {
            lock.unlock();
        }
    }

    /** Buffers in the map now; approximate while others change it. */
    int size() {
        int n = 0;
        for (int i = 0; i < STRIPES; i++) {
            ReentrantLock lock = locks[i];
            lock.lock();
            try {
                n += maps[i].size();
            } finally {
                lock.unlock();
            }
        }
        return n;
    }

    /**
     * The block numbers in {@code [first, last]} that have a buffer now, sorted: for
     * an invalidation of a range much larger than the file's buffers, cheaper than
     * looking up every block of it.
     */
    long[] blocksIn(long first, long last) {
        long[] found = new long[16];
        int n = 0;
        for (int i = 0; i < STRIPES; i++) {
            ReentrantLock lock = locks[i];
            lock.lock();
            try {
                for (long blkno : maps[i].keySet()) {
                    if (blkno >= first && blkno <= last) {
                        if (n == found.length) {
                            found = java.util.Arrays.copyOf(found, 2 * n);
                        }
                        found[n++] = blkno;
                    }
                }
            } finally {
                lock.unlock();
            }
        }
        long[] result = java.util.Arrays.copyOf(found, n);
        java.util.Arrays.sort(result);
        return result;
    }

    /** Removes the block's entry if it is {@code bp} (brelvp). */
    void remove(long blkno, Buf bp) {
        int s = stripe(blkno);
        ReentrantLock lock = locks[s];
        lock.lock();
        try {
            if (maps[s].get(blkno) == bp) {
                maps[s].remove(blkno);
            }
        } finally {
            lock.unlock();
        }
    }
}
