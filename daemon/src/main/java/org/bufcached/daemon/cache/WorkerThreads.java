package org.bufcached.daemon.cache;

import io.netty.util.concurrent.FastThreadLocal;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The threads that touch buffer memory, each with a small index: the user-space
 * "CPUs" of KVABIO (a bit in {@code b_cpumask}) and of the quiescent-state
 * tracking that decides when a retired window may be unmapped.
 *
 * <p>Every worker thread has a counter. A thread running a task that may hold
 * raw addresses keeps it odd; it makes it even, or at least moves it, when it
 * passes a quiescent point. A retired window may go once every counter has moved
 * or was even since the retirement: then no thread can still use an address it
 * computed before.
 */
public final class WorkerThreads {
    /** Indices fit a 64-bit cpumask. */
    public static final int MAX_THREADS = 64;

    private final AtomicInteger next = new AtomicInteger();
    private final AtomicLongArray counters = new AtomicLongArray(MAX_THREADS);
    private final FastThreadLocal<Integer> index = new FastThreadLocal<>() {
        @Override
        protected Integer initialValue() {
            return register();
        }
    };

    /** This thread's index, registering it on first use. */
    public int index() {
        return index.get();
    }

    /** Threads registered so far. */
    public int count() {
        return Math.min(next.get(), MAX_THREADS);
    }

    /** All registered threads as a cpumask. */
    public long activeMask() {
        int n = count();
        return n == MAX_THREADS ? -1L : (1L << n) - 1;
    }

    private int register() {
        int i = next.getAndIncrement();
        if (i >= MAX_THREADS) {
            throw new IllegalStateException("more than " + MAX_THREADS + " threads touch buffer memory: "
                    + Thread.currentThread().getName());
        }
        counters.set(i, 1); // odd: a thread is busy until it says otherwise
        return i;
    }

    /** The calling thread starts a task that may use buffer addresses. */
    public void enter() {
        int i = index();
        long c = counters.get(i);
        if ((c & 1) == 0) {
            counters.set(i, c + 1);
        }
    }

    /** The calling thread holds no buffer address any more: the end of a task, going idle. */
    public void exit() {
        int i = index();
        long c = counters.get(i);
        if ((c & 1) != 0) {
            counters.set(i, c + 1);
        }
    }

    /**
     * A thread that is never idle (an event loop) passes a quiescent point: between
     * two of its tasks it holds no address computed before.
     */
    public void checkpoint() {
        int i = index();
        counters.set(i, counters.get(i) + 2);
    }

    /** A snapshot to compare against later, taken when something is retired. */
    public long[] snapshot() {
        int n = count();
        long[] s = new long[n];
        for (int i = 0; i < n; i++) {
            s[i] = counters.get(i);
        }
        return s;
    }

    /** True when every thread of {@code snapshot} has passed a quiescent point since. */
    public boolean gracePeriodOver(long[] snapshot) {
        for (int i = 0; i < snapshot.length; i++) {
            long then = snapshot[i];
            if ((then & 1) != 0 && counters.get(i) == then) {
                return false;
            }
        }
        return true;
    }
}
