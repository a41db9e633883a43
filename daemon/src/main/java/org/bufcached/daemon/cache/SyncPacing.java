package org.bufcached.daemon.cache;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * When the flushers write a file back ahead of its clients' next FLUSH.
 *
 * <p>A client that FLUSHes (or writes with FUA) will have everything it wrote
 * written before the answer anyway; if all of it waits for the FLUSH, the FLUSH
 * waits for a whole interval's worth of random writes. So while a file's clients
 * sync, the flushers start its write-back (sync_file_range, without waiting) a few
 * times per interval between syncs, and a FLUSH finds only what came since the
 * last one. A page rewritten between two of them is written more than once, so
 * the pace follows the clients': {@link #PER_INTERVAL} write-backs per interval at
 * most, none for a client that stopped syncing, none for intervals longer than
 * the kernel's own dirty expiry. Files nobody syncs are left to the dirty marks
 * and the kernel, which write hot pages back far less often.
 *
 * <p>Threads: {@link #clientSync} and {@link #writerArrived} run on any event loop, {@link #due} on the
 * flusher of the file's class, {@link #finished} on the loop that ran the
 * write-back. The times are volatile and their races benign (a write-back starts
 * a pass early or late); {@link #running} keeps one write-back per file at a time.
 */
final class SyncPacing {
    /** Write-backs started per interval between two client syncs, at most. */
    static final int PER_INTERVAL = 4;
    /** A client silent for this many of its intervals no longer counts as syncing. */
    private static final int IDLE_INTERVALS = 2;
    /** The kernel's dirty_expire_centisecs default: beyond that its own write-back comes first. */
    private static final long MAX_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(30);

    /**
     * The interval assumed after a client's first sync, until a second one tells:
     * a client that FLUSHes once usually goes on, and its second FLUSH should not
     * wait for everything written since its first.
     */
    static final long FIRST_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private volatile long lastSyncNanos;
    private volatile long intervalNanos = FIRST_INTERVAL_NANOS;
    /** Flusher only. */
    private long lastStartNanos;
    private final AtomicBoolean running = new AtomicBoolean();

    /** A client asked for a sync (FLUSH, or FUA) at {@code now}. */
    void clientSync(long now) {
        long last = lastSyncNanos;
        if (last != 0 && now - last > 0) {
            intervalNanos = now - last;
        }
        lastSyncNanos = now;
    }

    /**
     * A connection started writing at {@code now}. Unless a client syncs the file
     * already, pacing starts as if it had just synced: its first FLUSH then finds
     * only what came since the last write-back ahead, not everything written since
     * it connected. A client that never syncs gets {@link #IDLE_INTERVALS} intervals
     * of write-back ahead, once per connection.
     */
    void writerArrived(long now) {
        long last = lastSyncNanos;
        if (last == 0 || now - last > IDLE_INTERVALS * intervalNanos) {
            lastSyncNanos = now;
        }
    }

    /**
     * Whether a write-back ahead of the next sync should start now; if so, it is
     * counted as running until {@link #finished}.
     */
    boolean due(long now) {
        long interval = intervalNanos;
        long last = lastSyncNanos;
        if (last == 0 || interval > MAX_INTERVAL_NANOS || now - last > IDLE_INTERVALS * interval) {
            return false;
        }
        if (now - lastStartNanos < interval / PER_INTERVAL || !running.compareAndSet(false, true)) {
            return false;
        }
        lastStartNanos = now;
        return true;
    }

    void finished() {
        running.set(false);
    }
}
