package org.bufcached.daemon.cache;

import io.netty.util.concurrent.FastThreadLocal;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The threads that touch buffer memory, each with a small index: the user-space
 * "CPUs" of KVABIO (a bit in {@code b_cpumask}) and of the quiescent-state
 * tracking that decides when a retired window may be unmapped.
 *
 * <p>The capacity is fixed when the cache starts, from the threads it will have
 * (event loops, flushers, the blocking pool) plus room for others, so the cpumask
 * grows with the number of cores instead of capping it.
 *
 * <p>Every worker thread has a counter. A thread running a task that may hold
 * raw addresses keeps it odd; it makes it even, or at least moves it, when it
 * passes a quiescent point. A retired window may go once every counter has moved
 * or was even since the retirement: then no thread can still use an address it
 * computed before.
 */
public final class WorkerThreads {
    private final int capacity;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicLongArray counters;
    private final FastThreadLocal<Integer> index = new FastThreadLocal<>() {
        @Override
        protected Integer initialValue() {
            return register();
        }
    };

    public WorkerThreads(int capacity) {
        this.capacity = capacity;
        this.counters = new AtomicLongArray(capacity);
    }

    /** How many threads may register; the cpumask has this many bits. */
    public int capacity() {
        return capacity;
    }

    /** Longs in a cpumask. */
    int cpumaskWords() {
        return (capacity + 63) / 64;
    }

    /** The first 64 registered threads as a mask, for tests and logs. */
    public long activeMask() {
        int n = Math.min(64, count());
        return n == 64 ? -1L : (1L << n) - 1;
    }

    /** This thread's index, registering it on first use. */
    public int index() {
        return index.get();
    }

    /** Threads registered so far. */
    public int count() {
        return Math.min(next.get(), capacity);
    }

    private int register() {
        int i = next.getAndIncrement();
        if (i >= capacity) {
            throw new IllegalStateException("more than " + capacity + " threads touch buffer memory: "
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
