package org.bufcached.daemon.cache;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the cache knows about one backing file, for the export's metrics: block
 * lookups that hit or missed, bytes written and not yet written back, write-back
 * failures. Counters only move; readers see a recent value without a lock.
 */
public final class FileStats {
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final AtomicLong dirtyBytes = new AtomicLong();
    final LongAdder writebackErrors = new LongAdder();
    volatile boolean durabilityFailed;

    /** Block lookups of READ served from a valid buffer. */
    public long cacheHits() {
        return hits.sum();
    }

    /** Block lookups of READ that needed a buffer or a page-in. */
    public long cacheMisses() {
        return misses.sum();
    }

    /** Bytes written by clients that the flushers have not written back yet. */
    public long dirtyBytes() {
        return dirtyBytes.get();
    }

    /** Write-backs of this file that failed (each failed cluster once). */
    public long writebackErrors() {
        return writebackErrors.sum();
    }

    /**
     * True while FLUSH and FUA on this file are answered with an I/O error because
     * data acknowledged earlier could not be proven durable.
     */
    public boolean durabilityFailed() {
        return durabilityFailed;
    }
}
