package org.bufcached.daemon.cache;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.bufcached.config.CacheConfig;

/**
 * The buffer cache's space accounting, watermarks and waits: the globals of
 * vfs_bio ({@code bufspace}, {@code dirtybufspace}, {@code runningbufspace}...),
 * the tunables derived by bufinit(), and the wake-ups between writers and the
 * flush daemons.
 *
 * <p>Waiting never blocks a request's thread except for the flushers: writers
 * past the high mark ({@link #bd_wait}) and requests that found no buffer
 * ({@link #waitForBuffer}) park a continuation that a wake-up runs later.
 */
public final class BufSpace {
    /** Slots of the wake ring; a writer waits for its share to pass the ring. */
    static final int BD_WAKE_SIZE = 64;
    static final int BD_WAKE_MASK = BD_WAKE_SIZE - 1;
    /** The flushers' longest sleep. */
    static final long BD_SLEEP_MILLIS = 100;

    // Counters (vfs_bio's globals).
    final AtomicLong bufspace = new AtomicLong();
    final AtomicLong dirtybufspace = new AtomicLong();
    final AtomicLong dirtybufcount = new AtomicLong();
    final AtomicLong dirtykvaspace = new AtomicLong();
    final AtomicLong dirtybufspacehw = new AtomicLong();
    final AtomicLong dirtybufcounthw = new AtomicLong();
    final AtomicLong runningbufspace = new AtomicLong();
    final AtomicLong runningbufcount = new AtomicLong();
    /** The heavy class's share of runningbufspace, so a stalled heavy store cannot starve light write-back. */
    final AtomicLong runningbufspacehw = new AtomicLong();
    /** Heavy write-backs in flight: each may hold a thread of the blocking pool (or of the kernel's io-wq). */
    final AtomicLong runningbufcounthw = new AtomicLong();
    /**
     * At most this many heavy write-backs at once, so that a stalled slow store can
     * hold no more than part of the threads that run write-backs; the rest stay for
     * the light class and for requests.
     */
    volatile int maxHeavyWritebacks = Integer.MAX_VALUE;
    final AtomicLong getnewbufcalls = new AtomicLong();
    /** Writers that bd_wait parked until the flushers caught up: throttling, for the metrics. */
    final LongAdder writerWaits = new LongAdder();

    // Tunables; all but nbuf and the buffer size may change while running.
    final int nbuf;
    final long bufferSize;
    volatile long lobufspace;
    volatile long hibufspace;
    volatile long maxbufspace;
    volatile long lodirtybufspace;
    volatile long hidirtybufspace;
    volatile long lorunningspace;
    volatile long hirunningspace;
    volatile int flushperqueue;
    volatile long clusterLimit;
    /** cache.sync-interval in nanoseconds; 0: no background syncs. */
    volatile long syncIntervalNanos;

    // Flusher requests (bd_request, bd_request_hw) and their wake-ups.
    final AtomicInteger bd_request = new AtomicInteger();
    final AtomicInteger bd_request_hw = new AtomicInteger();
    private final Object bdWakeup = new Object();
    private final Object bdWakeupHw = new Object();

    // The wake ring of bd_wait / bd_signal.
    private final AtomicInteger bd_wake_index = new AtomicInteger();
    @SuppressWarnings("unchecked")
    private final ConcurrentLinkedQueue<Runnable>[] bd_wake_ary = new ConcurrentLinkedQueue[BD_WAKE_SIZE];

    // Requests that found no buffer (needsbuffer) and flushers waiting on running I/O.
    private final ConcurrentLinkedQueue<Runnable> needsbuffer = new ConcurrentLinkedQueue<>();
    private final Object runningbufreq = new Object();

    BufSpace(CacheConfig c) {
        this.bufferSize = c.bufferSize();
        this.nbuf = (int) Math.max(1, c.maxbufspace() / c.bufferSize());
        for (int i = 0; i < BD_WAKE_SIZE; i++) {
            bd_wake_ary[i] = new ConcurrentLinkedQueue<>();
        }
        retune(c);
    }

    /** Applies new watermarks (live reload); sizes fixed at start are not touched. */
    public void retune(CacheConfig c) {
        lobufspace = c.lobufspace();
        hibufspace = c.hibufspace();
        maxbufspace = c.maxbufspace();
        lodirtybufspace = c.lodirtybufspace();
        hidirtybufspace = c.hidirtybufspace();
        lorunningspace = c.lorunningspace();
        hirunningspace = c.hirunningspace();
        flushperqueue = c.flushperqueue();
        clusterLimit = c.clusterLimit();
        syncIntervalNanos = c.syncInterval().toNanos();
    }

    // ---- dirty accounting (bdirty / bundirty) ----

    /**
     * {@code bytes} more of the buffer are dirty; {@code newBuffer} when it just
     * became B_DELWRI. Dirty space counts the pages written, not whole buffers, so
     * scattered small writes do not hit the high mark sixteen times too early.
     */
    void dirtied(Buf bp, long bytes, boolean newBuffer) {
        boolean heavy = bp.isSet(Buf.B_HEAVY);
        if (newBuffer) {
            dirtybufcount.incrementAndGet();
            if (heavy) {
                dirtybufcounthw.incrementAndGet();
            }
        }
        dirtykvaspace.addAndGet(bytes);
        dirtybufspace.addAndGet(bytes);
        if (heavy) {
            dirtybufspacehw.addAndGet(bytes);
        }
    }

    /** The buffer's {@code bytes} of dirty pages were written back or discarded. */
    void undirtied(Buf bp, long bytes) {
        dirtybufcount.decrementAndGet();
        dirtykvaspace.addAndGet(-bytes);
        dirtybufspace.addAndGet(-bytes);
        if (bp.isSet(Buf.B_HEAVY)) {
            dirtybufcounthw.decrementAndGet();
            dirtybufspacehw.addAndGet(-bytes);
        }
        bd_signal(bytes);
    }

    // ---- running write-back (bsetrunningbufspace / runningbufwakeup) ----

    void runningStarted(long bytes, boolean heavy) {
        runningbufspace.addAndGet(bytes);
        runningbufcount.incrementAndGet();
        if (heavy) {
            runningbufspacehw.addAndGet(bytes);
            runningbufcounthw.incrementAndGet();
        }
    }

    void runningDone(long bytes, boolean heavy) {
        long now = runningbufspace.addAndGet(-bytes);
        runningbufcount.decrementAndGet();
        boolean heavyAtLimit = false;
        if (heavy) {
            runningbufspacehw.addAndGet(-bytes);
            heavyAtLimit = runningbufcounthw.getAndDecrement() >= maxHeavyWritebacks;
        }
        if (now <= lorunningspace || heavyAtLimit) {
            synchronized (runningbufreq) {
                runningbufreq.notifyAll();
            }
        }
        bd_signal(bytes);
    }

    /** Whether buf_daemon_hw may start no more write-backs now. */
    boolean heavyAtLimit() {
        return runningbufcounthw.get() >= maxHeavyWritebacks;
    }

    /** Running write-back that counts against one daemon's limit. */
    long running(boolean heavy) {
        long hw = runningbufspacehw.get();
        return heavy ? hw : runningbufspace.get() - hw;
    }

    /**
     * waitrunningbufspace: a flusher blocks while its class's running write-back
     * is above 4/6 of hirunningspace, until it drains towards 3/6. Only flushers
     * call this: they are the one kind of thread allowed to wait.
     */
    void waitrunningbufspace(boolean heavy) {
        long limit = hirunningspace * 4 / 6;
        if (running(heavy) <= limit && !(heavy && heavyAtLimit())) {
            return;
        }
        long target = hirunningspace * 3 / 6;
        synchronized (runningbufreq) {
            while (running(heavy) > target || (heavy && heavyAtLimit())) {
                try {
                    runningbufreq.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    // ---- flusher wake-ups ----

    /** bd_speedup: spank the daemons once dirty space passes the low mark. */
    void bd_speedup() {
        long dirty = dirtykvaspace.get();
        long count = dirtybufcount.get();
        long counthw = dirtybufcounthw.get();
        if (dirty < lodirtybufspace && count < nbuf / 2) {
            return;
        }
        if (bd_request.get() == 0 && (dirty > lodirtybufspace / 2 || count - counthw >= nbuf / 2)) {
            if (bd_request.getAndIncrement() == 0) {
                wake(bdWakeup);
            }
        }
        if (bd_request_hw.get() == 0 && (dirty > lodirtybufspace / 2 || counthw >= nbuf / 2)) {
            if (bd_request_hw.getAndIncrement() == 0) {
                wake(bdWakeupHw);
            }
        }
    }

    /** Wakes both daemons whatever the counters say (FLUSH, getnewbuf out of buffers). */
    void bd_wakeup_all() {
        bd_request.incrementAndGet();
        bd_request_hw.incrementAndGet();
        wake(bdWakeup);
        wake(bdWakeupHw);
    }

    private static void wake(Object monitor) {
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }

    /**
     * A daemon sleeps until requested, or {@link #BD_SLEEP_MILLIS} pass: shorter
     * than the seed's hz so that a backing file cut short or replaced under its
     * export is noticed within a tenth of a second.
     */
    void bd_sleep(boolean heavy) {
        AtomicInteger req = heavy ? bd_request_hw : bd_request;
        Object monitor = heavy ? bdWakeupHw : bdWakeup;
        synchronized (monitor) {
            if (req.getAndSet(0) == 0) {
                try {
                    monitor.wait(BD_SLEEP_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * bd_heatup: get the daemons going once running plus dirty space passes the
     * first mid-point; returns how far it is past the second mid-point, the
     * excess a writer must wait out.
     */
    long bd_heatup() {
        long lo = lodirtybufspace;
        long hi = hidirtybufspace;
        long mid1 = lo + (hi - lo) / 2;
        long totalspace = runningbufspace.get() + dirtykvaspace.get();
        if (totalspace >= mid1 || dirtybufcount.get() >= nbuf / 2) {
            bd_speedup();
            long mid2 = mid1 + (hi - mid1) / 2;
            if (totalspace >= mid2) {
                return totalspace - mid2;
            }
        }
        return 0;
    }

    /**
     * bd_wait, asynchronous: {@code resume} runs once the flushers have retired
     * about {@code totalspace} bytes and running plus dirty space is back under
     * hidirtybufspace. It may run at once, on this thread; otherwise it runs on
     * the thread of a later {@link #bd_signal}, or of {@link #recheckWaiters}.
     */
    void bd_wait(long totalspace, Runnable resume) {
        if (totalspace <= 0) {
            resume.run();
            return;
        }
        writerWaits.increment();
        bd_heatup();
        // Fetch the index before the counters: suppliers move it after updating them.
        int i = bd_wake_index.get();
        long now = runningbufspace.get() + dirtykvaspace.get();
        if (totalspace > now) {
            totalspace = now;
        }
        int count = (int) Math.min(totalspace / bufferSize, BD_WAKE_SIZE / 2);
        i += count;
        bd_wake_ary[i & BD_WAKE_MASK].add(new Waiter(this, resume));
        int j = bd_wake_index.get();
        if (i - j < 0) {
            // The ring passed our slot while we queued: wake that slot ourselves.
            drainSlot(i & BD_WAKE_MASK);
        }
    }

    /**
     * bd_signal: running or dirty space shrank by {@code totalspace}; advance the
     * ring one slot per buffer's worth and wake whoever waits there.
     */
    void bd_signal(long totalspace) {
        if (totalspace <= 0) {
            return;
        }
        long slots = Math.min((totalspace + bufferSize - 1) / bufferSize, BD_WAKE_SIZE);
        for (long n = 0; n < slots; n++) {
            int i = bd_wake_index.getAndIncrement() & BD_WAKE_MASK;
            drainSlot(i);
        }
    }

    /**
     * Runs the waiters queued in the slot now. A waiter that must wait again may
     * queue itself in this very slot: it is not run again by this call, which
     * would spin while nothing changes.
     */
    private void drainSlot(int slot) {
        ConcurrentLinkedQueue<Runnable> q = bd_wake_ary[slot];
        for (int n = q.size(); n > 0; n--) {
            Runnable r = q.poll();
            if (r == null) {
                return;
            }
            r.run();
        }
    }

    /** Wakes every writer so each re-checks the marks; the seed's sleep timeout. */
    void recheckWaiters() {
        for (int s = 0; s < BD_WAKE_SIZE; s++) {
            drainSlot(s);
        }
        bufspacewakeup();
    }

    /** A writer woken from the ring: done if under the high mark, else it waits again. */
    private static final class Waiter implements Runnable {
        private final BufSpace space;
        private final Runnable resume;

        Waiter(BufSpace space, Runnable resume) {
            this.space = space;
            this.resume = resume;
        }

        @Override
        public void run() {
            long excess = space.runningbufspace.get() + space.dirtykvaspace.get() - space.hidirtybufspace;
            if (excess > 0) {
                space.bd_wait(excess, resume);
            } else {
                resume.run();
            }
        }
    }

    // ---- buffer space waits (needsbuffer) ----

    /** getnewbuf found nothing: park until buffer space or a clean buffer returns. */
    void waitForBuffer(Runnable retry) {
        needsbuffer.add(retry);
        bd_wakeup_all();
    }

    /** bufspacewakeup / bufcountwakeup: a buffer became reusable; retry the parked requests. */
    void bufspacewakeup() {
        Runnable r;
        while ((r = needsbuffer.poll()) != null) {
            r.run();
        }
    }

    int buffersWaiting() {
        return needsbuffer.size();
    }

    // ---- the daemons' limit functions ----
    //
    // The seed's two daemons each flush while the dirty and running space of both
    // classes is above half the low mark: the one low mark split between two threads.
    // Here each class counts its own, so that a slow store's backlog never sets the
    // light daemon writing, and the split is made exact instead: the flushers work
    // down to lodirtybufspace together, and a class holding less than half of it
    // leaves the rest to the other. One busy class alone keeps up to the whole low
    // mark dirty, where the seed's halves would write it back at half: here that data
    // is the kernel's page cache, which holds and writes it on its own, and writing a
    // hot set early only writes it again at its next rewrite.

    /** buf_daemon_limit: the light class (dirty and running) above its share of the low mark, or too many dirty buffers. */
    boolean buf_daemon_limit() {
        long light = running(false) + dirtykvaspace.get() - dirtybufspacehw.get();
        return aboveLowMark(light) || dirtybufcount.get() - dirtybufcounthw.get() >= nbuf / 2;
    }

    /** buf_daemon_hw_limit, the same for the heavy class. */
    boolean buf_daemon_hw_limit() {
        return aboveLowMark(running(true) + dirtybufspacehw.get()) || dirtybufcounthw.get() >= nbuf / 2;
    }

    /** Both classes together above the low mark, and {@code classSpace} at least half of it. */
    private boolean aboveLowMark(long classSpace) {
        long lo = lodirtybufspace;
        return classSpace > lo / 2 && runningbufspace.get() + dirtykvaspace.get() > lo;
    }
}
