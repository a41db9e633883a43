package org.bufcached.protocol.server;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The budget of WRITE payload bytes that the decoders of all connections may
 * hold at once, so that many clients sending large writes together cannot
 * exhaust direct memory. A decoder reserves a payload's length before it
 * allocates the payload's buffer; whoever finishes the request returns the
 * reservation with {@link #release}. A decoder that cannot reserve stops reading
 * its socket and waits; waiters are served in arrival order, and while any wait,
 * new reservations queue behind them, so a large payload is not starved by a
 * stream of small ones.
 *
 * <p>A payload larger than the whole budget is admitted when nothing else is
 * reserved, so it waits but never forever: the budget may then be exceeded by
 * that one payload.
 *
 * <p>A reservation is held while its payload arrives, so a client that announces
 * a payload and then sends nothing would hold it for as long as it likes: while
 * others wait, a decoder whose payload has made no progress for
 * {@link #stallTimeoutNanos()} gives it up by closing its connection.
 *
 * <p>Thread safety: {@link #available} is atomic, so the common case (nobody
 * waiting, room left) reserves without a lock. The monitor of this object guards
 * {@link #waiters} and {@link #limit} changes; {@link #waiting} mirrors the
 * queue's size so that {@link #release} takes the lock only when someone waits.
 */
public final class PayloadMemory {
    /** Told, on any thread, that the reservation it waited for is now held for it. */
    public interface Waiter {
        /** The bytes this waiter asked for; constant while it waits. */
        long bytesWanted();

        void reserved();
    }

    private final AtomicLong available;
    /** Written under the monitor; read without it to tell "nothing reserved". */
    private volatile long limit;
    /** Guarded by the monitor. */
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private volatile int waiting;
    private final AtomicLong waits = new AtomicLong();
    private volatile long stallTimeoutNanos;

    public PayloadMemory(long limit, long stallTimeoutNanos) {
        if (limit <= 0) {
            throw new IllegalArgumentException("payload memory must be positive, got " + limit);
        }
        this.limit = limit;
        this.available = new AtomicLong(limit);
        stallTimeout(stallTimeoutNanos);
    }

    /**
     * Reserves {@code bytes} now and returns true, or queues {@code waiter} (whose
     * {@link Waiter#reserved()} runs once the bytes are reserved for it) and
     * returns false.
     */
    public boolean reserveOrWait(long bytes, Waiter waiter) {
        if (waiting == 0 && tryTake(bytes)) {
            return true;
        }
        synchronized (this) {
            // Counted before the check, so a release that misses this check sees a waiter and grants.
            waiters.addLast(waiter);
            waiting = waiters.size();
            if (waiters.peekFirst() == waiter && tryTake(bytes)) {
                waiters.pollFirst();
                waiting = waiters.size();
                return true;
            }
        }
        waits.incrementAndGet();
        return false;
    }

    /**
     * Withdraws a waiter that no longer wants its bytes (its connection closed).
     * Returns false if it was already granted: its {@link Waiter#reserved()} has
     * run or will run, and it must release the bytes then.
     */
    public synchronized boolean cancel(Waiter waiter) {
        boolean removed = waiters.remove(waiter);
        waiting = waiters.size();
        if (removed) {
            grant();
        }
        return removed;
    }

    /** Returns {@code bytes} reserved earlier, and hands them on to waiters that now fit. */
    public void release(long bytes) {
        if (bytes == 0) {
            return;
        }
        available.addAndGet(bytes);
        if (waiting > 0) {
            synchronized (this) {
                grant();
            }
        }
    }

    /** Applies a new budget (on reload); reservations held stay valid. */
    public synchronized void limit(long newLimit) {
        if (newLimit <= 0) {
            throw new IllegalArgumentException("payload memory must be positive, got " + newLimit);
        }
        available.addAndGet(newLimit - limit);
        limit = newLimit;
        grant();
    }

    public long limit() {
        return limit;
    }

    /** Applies a new stall timeout (on reload) to payloads arriving from now on. */
    public void stallTimeout(long nanos) {
        if (nanos <= 0) {
            throw new IllegalArgumentException("stall timeout must be positive, got " + nanos);
        }
        this.stallTimeoutNanos = nanos;
    }

    /** How long a payload being received may go without a byte while decoders wait for memory. */
    public long stallTimeoutNanos() {
        return stallTimeoutNanos;
    }

    /** Bytes reserved now. */
    public long reserved() {
        return limit - available.get();
    }

    /** Decoders waiting for memory now. */
    public int waiting() {
        return waiting;
    }

    /** Times a decoder had to wait, since start. */
    public long waits() {
        return waits.get();
    }

    /** Under the monitor: reserves for the waiters at the head of the queue while they fit. */
    private void grant() {
        Waiter head;
        while ((head = waiters.peekFirst()) != null && tryTake(head.bytesWanted())) {
            waiters.pollFirst();
            waiting = waiters.size();
            head.reserved();
        }
    }

    /** Takes {@code bytes} if they fit, or if nothing at all is reserved (a payload larger than the budget). */
    private boolean tryTake(long bytes) {
        while (true) {
            long free = available.get();
            if (free < bytes && free != limit) {
                return false;
            }
            if (available.compareAndSet(free, free - bytes)) {
                return true;
            }
        }
    }
}
