package org.bufcached.daemon.cache;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.bufcached.config.CacheConfig;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoLoops;
import org.bufcached.daemon.store.BackingFile;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.MemoryAdvice;
import org.bufcached.daemon.store.Posix;
import org.bufcached.daemon.store.Syscalls;
import org.bufcached.daemon.store.PosixException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The buffer cache: vfs_bio's buffer lookup, allocation and release, in the seed's
 * names (getblk, getcacheblk, findblk, getnewbuf, bqrelse, brelse, bqhold, bqdrop,
 * bdirty, bundirty, bdwrite), and the operations on files built on them: bread
 * with breadn's read-ahead ({@link #read}), writes as bdwrite and, with IO_SYNC,
 * as bwrite ({@link #write}), invalidation and changes of ranges
 * ({@link #change}), syncs ({@link #sync}). Buffers are headers over mapped
 * windows of the backing files; the page cache holds the data, so a buffer's job
 * is to say which blocks are valid (B_CACHE, paged in) and which were written and
 * not yet written back (B_DELWRI).
 *
 * <h2>Concurrency</h2>
 *
 * <p>Thread roles. <em>Event loops</em> run every operation (ReadOp, WriteOp,
 * ChangeOp, RecoveryOp) and their completions, and never wait: where the seed
 * sleeps, an operation parks a continuation (on a buffer lock, on buffer space,
 * on a window being mapped, on a sync) and returns; the only system call a loop
 * makes itself is a small write to the page cache that nothing can make wait
 * ({@link LoopWrites}). The two <em>flushers</em>
 * (buf_daemon, buf_daemon_hw) walk the dirty queues, start write-backs on the
 * loops, unmap retired windows, and are the only threads that ever wait (for
 * running write-back to drain). The <em>blocking pool</em> maps windows (and
 * evicts for the mapped budget) and, under the fallback engine, makes the system
 * calls; it touches no buffer memory.
 *
 * <p>Locks and what they guard, in the order they may nest (outer first):
 * <ol>
 * <li>{@link CachedFile}'s monitor: its windows being mapped and who waits for
 *     them; {@link KvaMap}'s monitor, inside it: the live and retired windows and
 *     the mapped budget.</li>
 * <li>{@link Buf#lock} (BUF_LOCK): the buffer's identity while associated
 *     ({@code file, blkno, loffset, size, windowRef, data, mapgen,
 *     association}), {@code valid}, {@code dirty} and its flags but B_AGE. Held
 *     across I/O by its owner (a write's pwrite, a miss's read), never waited
 *     for: others try-lock or park.</li>
 * <li>{@link BufQueues#spin}, per queue set: the queues' linkage and every
 *     queued buffer's {@code qindex, qcpu, qprev, qnext}; B_AGE is set under it.
 *     Taken with a buffer lock held (bqrelse); the other way round only try-locks
 *     a buffer (getnewbuf, flushbufqueues), so the two cannot deadlock.</li>
 * <li>{@link BufHash}'s stripe locks, innermost: the block-to-buffer map; a
 *     lookup takes its hold (b_refs) before letting go, so a buffer found cannot
 *     be reused under the finder.</li>
 * </ol>
 * {@link Durability}'s monitor and {@link BufSpace}'s wake-up monitors nest
 * inside none of these and call nothing back while held.
 *
 * <p>Why the hot path needs no global lock: a READ hit is a striped hash lookup
 * with a hold, a try of the valid bits, and {@link Kvabio#bkvasync}, which for a
 * thread that validated the mapping before is a bit test. Nothing can unmap the
 * window meanwhile: the hold keeps the buffer's window referenced, and a retired
 * window waits for every thread to pass a quiescent point. A WRITE locks only its
 * own buffers. Counters are atomics or LongAdders; the per-loop queue sets mean a
 * loop allocates and releases buffers under its own set's lock.
 *
 * <p>Exceptions to the rules, on purpose: {@link #getcacheblk} clears B_AGE
 * with only a hold (B_AGE is a recycling hint; a lost update changes which clean
 * buffer goes first, nothing else), and {@link #flushingbufs} is indexed by the
 * caller's queue set, as the seed's is by the caller's CPU, and written without a
 * lock (a hint again: at worst getnewbuf frees one buffer more or fewer).
 */
public final class BufCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BufCache.class);

    // findblk flags.
    static final int FINDBLK_TEST = 1;
    static final int FINDBLK_NBLOCK = 2;
    static final int FINDBLK_KVABIO = 4;

    final BufSpace space;
    final WorkerThreads threads;
    final Kvabio kvabio;
    final KvaMap kva;
    final BufQueues[] bufpcpu;
    /**
     * flushingbufs[cpu]: getnewbuf's lobufspace/hibufspace hysteresis, one per
     * caller's queue set (the seed's per caller CPU); a hint, written without a lock.
     */
    private final boolean[] flushingbufs;
    private final AtomicInteger nextCpu = new AtomicInteger();
    private final FastThreadLocal<Integer> cpu = new FastThreadLocal<>() {
        @Override
        protected Integer initialValue() {
            return Math.floorMod(nextCpu.getAndIncrement(), bufpcpu.length);
        }
    };
    /** The loops that run requests (null in unit tests that drive the cache from plain threads). */
    private final IoLoops loops;
    /** The files attached, for the flushers' background syncs and size checks. */
    final java.util.Set<CachedFile> files = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Bytes per bit of {@link Buf#valid}: a page, or more when a buffer has over 64 pages. */
    final long validUnit;
    final LongAdder readAheadHits = new LongAdder();
    final LongAdder readAheadIssued = new LongAdder();
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    /** Writes copied into the page cache on their loop ({@link LoopWrites}). */
    final LongAdder loopWrites = new LongAdder();
    /** Pauses of a file's loop writes: one took long, or a write-back did ({@link LoopWrites}). */
    final LongAdder loopWritePauses = new LongAdder();

    /**
     * {@code queueSets}: one per event loop. {@code threadCapacity}: how many
     * threads may touch buffer memory (the cpumask's width).
     */
    public BufCache(CacheConfig config, int queueSets, int threadCapacity, IoLoops loops) {
        this.space = new BufSpace(config);
        this.threads = new WorkerThreads(threadCapacity);
        this.kvabio = new Kvabio(threads);
        this.loops = loops;
        if (loops != null) {
            // A stalled heavy store may hold half the threads that run write-backs: the pool's
            // under the fallback engine, the kernel's io-wq (a few per CPU) under io_uring.
            space.maxHeavyWritebacks = Math.max(1, loops.writeBackThreads() / 2);
        }
        this.validUnit = Math.max(Posix.pageSize(), config.bufferSize() / 64);
        this.kva = new KvaMap(threads, config.windowSize(), config.maxMapped(), this::evictWindow);
        this.bufpcpu = new BufQueues[queueSets];
        this.flushingbufs = new boolean[queueSets];
        for (int i = 0; i < queueSets; i++) {
            bufpcpu[i] = new BufQueues(i);
        }
        // bufinit: every header starts empty, dealt round robin to the queue sets.
        int words = threads.cpumaskWords();
        for (int n = 0; n < space.nbuf; n++) {
            BufQueues pcpu = bufpcpu[n % queueSets];
            pcpu.insertTail(BufQueues.EMPTY, new Buf(pcpu.cpu, words));
        }
        LOG.info("buffer cache: {} buffers of {} bytes in {} queue sets, window {} bytes, mapped budget {} bytes,"
                + " cpumask of {} threads", space.nbuf, space.bufferSize, queueSets, config.windowSize(),
                config.maxMapped(), threadCapacity);
    }

    /** A cache for tests and tools, driven from plain threads: no loops, room for 64 threads. */
    public BufCache(CacheConfig config, int queueSets) {
        this(config, queueSets, 64, null);
    }

    IoLoops loops() {
        return loops;
    }

    public BufSpace space() {
        return space;
    }

    public WorkerThreads threads() {
        return threads;
    }

    public Kvabio kvabio() {
        return kvabio;
    }

    public long bufferSize() {
        return space.bufferSize;
    }

    /** The queue set of the calling thread: its own for an event loop, a fixed one for others. */
    int mycpu() {
        return cpu.get();
    }

    /** Makes the calling thread use queue set {@code index} (each event loop its own). */
    public void bindCurrentThread(int index) {
        cpu.set(Math.floorMod(index, bufpcpu.length));
        threads.index();
    }

    /** Opens a backing file to the cache. */
    public CachedFile attach(String name, BackingFile backing, boolean heavy) throws PosixException {
        CachedFile f = new CachedFile(name, backing, backing.size(), heavy, kva, loops);
        f.durability.recovery(new RecoveryOp.Starter(this, f));
        files.add(f);
        return f;
    }

    // ---------------------------------------------------------------- operations on files

    /**
     * Reads {@code [offset, offset + length)}: the data, hits straight from the
     * buffers' memory, goes to {@code callback}. On an event loop it runs there;
     * from elsewhere it hops onto one.
     */
    public void read(CachedFile f, long offset, int length, CacheCallback callback) {
        FileIo io = IoLoops.current();
        if (io == null) {
            FileIo any = loops.any();
            any.loop().execute(() -> read(f, offset, length, callback));
            return;
        }
        if (f.readAhead.covers(offset)) {
            readAheadHits.increment();
        }
        ReadOp.start(this, f, io, offset, length, callback);
        if (f.readAhead.observe(offset, length, f.size())) {
            readAheadIssued.increment();
            // breadn's read-ahead, as a hint to the kernel: no buffer is taken for it.
            io.fadvise(f.fd, f.readAhead.aheadStart(), f.readAhead.aheadLength(), Syscalls.POSIX_FADV_WILLNEED,
                    IGNORED);
        }
    }

    /**
     * Writes {@code data} (a direct buffer, owned by the cache from now on) at
     * {@code offset}; with {@code sync} the file is synced before the answer.
     */
    public void write(CachedFile f, long offset, ByteBuf data, boolean sync, CacheCallback callback) {
        FileIo io = IoLoops.current();
        if (io == null) {
            FileIo any = loops.any();
            any.loop().execute(() -> write(f, offset, data, sync, callback));
            return;
        }
        WriteOp.start(this, f, io, offset, data, sync, callback);
    }

    /** Invalidates the range's buffers, applies {@code change}, and syncs if asked (TRIM, WRITE_ZEROES). */
    public void change(CachedFile f, long offset, long length, FileChange change, boolean sync,
                       CacheCallback callback) {
        FileIo io = IoLoops.current();
        if (io == null) {
            FileIo any = loops.any();
            any.loop().execute(() -> change(f, offset, length, change, sync, callback));
            return;
        }
        ChangeOp.start(this, f, io, offset, length, change, sync, callback);
    }

    /**
     * A client started writing {@code f} and will likely sync it: the flushers write
     * ahead of that sync as they do between a client's syncs ({@link SyncPacing#writerArrived}).
     */
    public void expectSync(CachedFile f) {
        f.durability.pacing.writerArrived(System.nanoTime());
    }

    /** Answers once every write answered before this call is on stable storage, or says why not (FLUSH). */
    public void sync(CachedFile f, CacheCallback callback) {
        FileIo io = IoLoops.current();
        if (io == null) {
            FileIo any = loops.any();
            any.loop().execute(() -> sync(f, callback));
            return;
        }
        f.durability.sync(SyncOp.of(callback), io);
    }

    /** Starts the kernel reading the range in (NBD_CMD_CACHE); answers once that is under way. */
    public void prefetch(CachedFile f, long offset, long length, CacheCallback callback) {
        FileIo io = IoLoops.current();
        if (io == null) {
            FileIo any = loops.any();
            any.loop().execute(() -> prefetch(f, offset, length, callback));
            return;
        }
        long end = Math.min(f.size(), offset + length);
        if (end <= offset) {
            callback.done(null);
            return;
        }
        int chunk = Integer.MAX_VALUE & ~(Posix.pageSize() - 1);
        try {
            for (long at = offset; at < end; at += chunk) {
                int n = (int) Math.min(chunk, end - at);
                io.fadvise(f.fd, at, n, Syscalls.POSIX_FADV_WILLNEED, at + n >= end ? result -> {
                    if (result < 0 && result != -Errno.ESHUTDOWN) {
                        LOG.debug("prefetch of {} failed: {}", f, Errno.name((int) -result));
                    }
                    callback.done(null);
                } : IGNORED);
            }
        } catch (RuntimeException e) {
            callback.failed(e);
        }
    }

    private static final org.bufcached.daemon.io.IoCompletion IGNORED = result -> { };

    /**
     * Takes the file out of service: new operations fail (ESHUTDOWN), its buffers
     * are invalidated once their holders let go, its windows are retired. The
     * future completes when the buffers are gone; the file's last sync and close
     * are the caller's.
     */
    public java.util.concurrent.CompletableFuture<Void> close(CachedFile f) {
        f.markClosed();
        java.util.concurrent.CompletableFuture<Void> gone = new java.util.concurrent.CompletableFuture<>();
        change(f, 0, f.size(), null, false, new CacheCallback() {
            @Override
            public void done(ByteBuf data) {
                detach(f);
                gone.complete(null);
            }

            @Override
            public void failed(Throwable cause) {
                detach(f);
                gone.completeExceptionally(cause);
            }
        });
        return gone;
    }

    /** The file shrank under its export: the buffers past its new end go, so nothing maps a page past it. */
    void shrunk(CachedFile f) {
        long end = f.fileEnd();
        change(f, end, f.size() - end, null, false, new CacheCallback() {
            @Override
            public void done(ByteBuf data) {
            }

            @Override
            public void failed(Throwable cause) {
                LOG.warn("export {}: dropping the buffers past the new end failed: {}", f.name(), cause.toString());
            }
        });
    }

    // ---------------------------------------------------------------- lookup

    /**
     * findblk: the buffer of the block, or null. FINDBLK_TEST returns it held
     * (bqhold), not locked; the caller drops the hold. Otherwise it is returned
     * locked: FINDBLK_NBLOCK fails rather than wait (and every caller here passes
     * it: nothing waits on a buffer lock in this method). Without FINDBLK_KVABIO the
     * buffer is synchronized for every thread through bkvasync_all, the only way
     * findblk clears B_KVABIO.
     */
    Buf findblk(CachedFile f, long blkno, int flags) {
        for (;;) {
            Buf bp = f.hash.lookupHold(blkno);
            if (bp == null) {
                return null;
            }
            if ((flags & FINDBLK_TEST) != 0) {
                return bp;
            }
            if (!bp.lock.tryLock()) {
                bqdrop(bp);
                return null;
            }
            if (bp.file == f && bp.blkno == blkno) {
                if ((flags & FINDBLK_KVABIO) != 0) {
                    bp.setFlags(Buf.B_KVABIO);
                } else {
                    kvabio.bkvasync_all(bp);
                }
                bqdrop(bp);
                return bp;
            }
            BUF_UNLOCK(bp);
            bqdrop(bp);
        }
    }

    /**
     * getcacheblk: the block's buffer, held but not locked, if the pages in
     * {@code need} are valid and it is not being invalidated; else null. The READ hit path: the data
     * may be copied out under the hold, as VOP_READ does with bqhold.
     */
    Buf getcacheblk(CachedFile f, long blkno, long need) {
        Buf bp = f.hash.lookupHold(blkno);
        if (bp == null) {
            return null;
        }
        if (!bp.isSet(Buf.B_INVAL) && (bp.valid & need) == need && bp.file == f && bp.blkno == blkno) {
            bp.clearFlags(Buf.B_AGE);
            return bp;
        }
        bqdrop(bp);
        return null;
    }

    /**
     * getblk: the block's buffer, locked and off its queue, associating a new one
     * if there is none. B_CACHE says whether its pages are known to be in. Returns
     * null after parking {@code retry} when the buffer is locked by someone else or
     * no buffer can be had; {@code retry} then runs (on the thread of the wake-up)
     * when it is worth trying again. With a null {@code retry} it just returns null
     * (GETBLK_NOWAIT).
     */
    Buf getblk(CachedFile f, long blkno, Runnable retry) throws PosixException {
        for (;;) {
            Buf bp = f.hash.lookupHold(blkno);
            if (bp != null) {
                if (!bp.lock.tryLock()) {
                    boolean parked = retry != null && bp.lock.park(retry);
                    bqdrop(bp);
                    if (parked || retry == null) {
                        return null;
                    }
                    continue;
                }
                if (bp.file != f || bp.blkno != blkno) {
                    BUF_UNLOCK(bp);
                    bqdrop(bp);
                    continue;
                }
                bremfree(bp);
                bqdrop(bp);
                return bp;
            }
            // The window first: on an event loop an unmapped one is mapped elsewhere while the request waits.
            long loffset = blkno * space.bufferSize;
            Window w = f.acquireWindow(loffset, retry);
            if (w == null) {
                return null;
            }
            bp = getnewbuf(f.heavy());
            if (bp == null) {
                w.refs.decrementAndGet();
                if (retry != null) {
                    space.waitForBuffer(retry);
                }
                return null;
            }
            associate(bp, f, blkno, w);
            if (f.hash.insertIfAbsent(blkno, bp) != bp) {
                // Another thread associated the block first: give ours back and use theirs.
                disassociate(bp);
                bp.setFlags(Buf.B_INVAL);
                brelse(bp);
                continue;
            }
            return bp;
        }
    }

    /** Gives the locked header {@code bp} block {@code blkno}, mapped through {@code w} (whose reference it takes). */
    private void associate(Buf bp, CachedFile f, long blkno, Window w) {
        long loffset = blkno * space.bufferSize;
        bp.windowRef = w;
        bp.mapgen = w.generation();
        bp.loffset = loffset;
        bp.size = (int) Math.min(space.bufferSize, f.size() - loffset);
        bp.data = w.mapping().address() + (loffset - w.mapping().fileOffset());
        bp.resetFlags(Buf.B_KVABIO | (f.heavy() ? Buf.B_HEAVY : 0));
        bp.valid = 0;
        bp.dirty = 0;
        kvabio.bkvareset(bp);
        bp.association++;
        bp.blkno = blkno;
        bp.file = f;
        space.bufspace.addAndGet(bp.size);
    }

    /** brelvp and allocbuf(bp, 0): the buffer no longer stands for its block. */
    private void disassociate(Buf bp) {
        CachedFile f = bp.file;
        if (f != null) {
            f.hash.remove(bp.blkno, bp);
            space.bufspace.addAndGet(-bp.size);
            bp.file = null;
            bp.blkno = -1;
        }
    }

    /** Drops the window reference of a disassociated, unheld, locked header. */
    private void releaseWindow(Buf bp) {
        Window w = bp.windowRef;
        if (w != null) {
            bp.windowRef = null;
            bp.data = 0;
            w.refs.decrementAndGet();
        }
    }

    // ---------------------------------------------------------------- getnewbuf

    /**
     * getnewbuf: a locked, disassociated buffer header, or null when none can be
     * had now. Scans EMPTY then CLEAN of the caller's queue set, giving CLEAN
     * buffers a second chance through B_AGE, skipping held (b_refs) and locked
     * ones; above hibufspace it frees clean buffers instead of reusing them until
     * bufspace falls under lobufspace ("flushing"); then tries the other sets.
     */
    Buf getnewbuf(boolean heavy) {
        space.getnewbufcalls.incrementAndGet();
        int mycpu = mycpu();
        int nqcpu = mycpu;
        do {
            Buf bp = scan(nqcpu, mycpu);
            if (bp != null) {
                return bp;
            }
            nqcpu = (nqcpu + 1) % bufpcpu.length;
        } while (nqcpu != mycpu);
        space.bd_speedup();
        return null;
    }

    /** Scans queue set {@code qcpu} for a buffer, with the hysteresis of the caller's set {@code mycpu}. */
    private Buf scan(int qcpu, int mycpu) {
        BufQueues pcpu = bufpcpu[qcpu];
        restart:
        for (;;) {
            if (space.bufspace.get() < space.lobufspace) {
                flushingbufs[mycpu] = false;
            }
            pcpu.spin.lock();
            Buf bp;
            int qindex = BufQueues.EMPTY;
            Buf nbp = pcpu.first(BufQueues.EMPTY);
            if (nbp == null || flushingbufs[mycpu]) {
                qindex = BufQueues.CLEAN;
                nbp = pcpu.first(BufQueues.CLEAN);
            }
            while ((bp = nbp) != null) {
                int q = qindex;
                nbp = BufQueues.next(bp);
                if (q == BufQueues.CLEAN && !bp.isSet(Buf.B_AGE) && nbp != null) {
                    // Second chance: an unaged clean buffer goes round once more.
                    bp.setFlags(Buf.B_AGE);
                    pcpu.remove(bp);
                    pcpu.insertTail(q, bp);
                    continue;
                }
                if (nbp == null && q == BufQueues.EMPTY) {
                    qindex = BufQueues.CLEAN;
                    nbp = pcpu.first(BufQueues.CLEAN);
                }
                if (bp.refs.get() != 0 || !bp.lock.tryLock()) {
                    continue;
                }
                if (bp.qindex != q || bp.refs.get() != 0) {
                    BUF_UNLOCK(bp);
                    continue;
                }
                pcpu.remove(bp);
                pcpu.spin.unlock();

                if (q == BufQueues.CLEAN) {
                    vfs_vmio_release(bp);
                    disassociate(bp);
                }
                if (bp.refs.get() != 0) {
                    // A findblk got in before the association went: the contents may be
                    // destroyed but the header not reused while it is held.
                    bp.setFlags(Buf.B_INVAL);
                    brelse(bp);
                    continue restart;
                }
                releaseWindow(bp);
                bp.resetFlags(0);

                long bufspace = space.bufspace.get();
                if (bufspace >= space.hibufspace) {
                    flushingbufs[mycpu] = true;
                }
                if (bufspace < space.lobufspace) {
                    flushingbufs[mycpu] = false;
                }
                if (flushingbufs[mycpu]) {
                    // Freeing rather than reusing: back to EMPTY, and scan CLEAN again.
                    bp.setFlags(Buf.B_INVAL);
                    brelse(bp);
                    continue restart;
                }
                return bp;
            }
            pcpu.spin.unlock();
            return null;
        }
    }

    /**
     * vfs_vmio_release: the buffer gives its pages back. The kernel is told they
     * may be aged first (MADV_COLD), and no thread keeps a validated mapping.
     */
    void vfs_vmio_release(Buf bp) {
        Window w = bp.windowRef;
        if (w != null && bp.size > 0 && w.mapping().isMapped() && MemoryAdvice.ofKernel().coldSupported()) {
            long start = bp.windowOffset();
            long pageStart = start - start % Posix.pageSize();
            long address = w.mapping().address() + pageStart;
            int length = (int) (start + bp.size - pageStart);
            FileIo io = IoLoops.current();
            if (io != null) {
                // A hint, never waited for; the window stays mapped until it is done.
                w.refs.incrementAndGet();
                io.madvise(address, length, Posix.MADV_COLD, w.dropRef);
            } else {
                Syscalls.madvise(address, length, Posix.MADV_COLD);
            }
        }
        kvabio.clearCpumask(bp);
    }

    // ---------------------------------------------------------------- release

    /** bremfree: takes a locked buffer off whatever queue it is on. */
    void bremfree(Buf bp) {
        for (;;) {
            int qcpu = bp.qcpu;
            BufQueues pcpu = bufpcpu[qcpu];
            pcpu.spin.lock();
            try {
                if (bp.qcpu != qcpu) {
                    continue;
                }
                if (bp.qindex != BufQueues.NONE) {
                    pcpu.remove(bp);
                }
                return;
            } finally {
                pcpu.spin.unlock();
            }
        }
    }

    /**
     * bqrelse: a locked, still useful buffer goes back on its queue (DIRTY or
     * DIRTY_HW when delayed-write, else CLEAN) and is
     * unlocked. Buffers being invalidated, or of a retired window, take the
     * brelse path instead.
     */
    void bqrelse(Buf bp) {
        if (bp.isSet(Buf.B_INVAL) || (bp.windowRef != null && bp.windowRef.retired && !bp.isSet(Buf.B_DELWRI))) {
            bp.setFlags(Buf.B_INVAL);
            brelse(bp);
            return;
        }
        int f = bp.flags();
        int q;
        if ((f & Buf.B_DELWRI) != 0) {
            q = (f & Buf.B_HEAVY) != 0 ? BufQueues.DIRTY_HW : BufQueues.DIRTY;
        } else {
            q = BufQueues.CLEAN;
        }
        BufQueues pcpu = bufpcpu[bp.qcpu];
        pcpu.spin.lock();
        try {
            pcpu.insertTail(q, bp);
        } finally {
            pcpu.spin.unlock();
        }
        bp.clearFlags(Buf.B_NOCACHE);
        BUF_UNLOCK(bp);
        if (q == BufQueues.CLEAN) {
            space.bufspacewakeup();
        }
    }

    /**
     * brelse: releases a locked buffer, destroying its association when it is
     * B_INVAL or B_NOCACHE; a delayed-write buffer that is not B_INVAL survives
     * anything else. Destroyed buffers go to EMPTY.
     */
    void brelse(Buf bp) {
        int f = bp.flags();
        if ((f & (Buf.B_NOCACHE | Buf.B_DELWRI)) == (Buf.B_NOCACHE | Buf.B_DELWRI)
                || (f & (Buf.B_INVAL | Buf.B_DELWRI)) == (Buf.B_INVAL | Buf.B_DELWRI)) {
            bundirty(bp);
            f = bp.flags();
        }
        if ((f & Buf.B_DELWRI) != 0) {
            bqrelse(bp);
            return;
        }
        if ((f & (Buf.B_NOCACHE | Buf.B_INVAL)) != 0 || bp.file == null) {
            disassociate(bp);
            boolean held = bp.refs.get() != 0;
            if (!held) {
                releaseWindow(bp);
            }
            bp.resetFlags(Buf.B_INVAL);
            BufQueues pcpu = bufpcpu[bp.qcpu];
            pcpu.spin.lock();
            try {
                pcpu.insertHead(BufQueues.EMPTY, bp);
            } finally {
                pcpu.spin.unlock();
            }
            BUF_UNLOCK(bp);
            if (held) {
                // The holder's last bqdrop may have found the header still locked by us.
                dropUnusedWindow(bp);
            }
            space.bufspacewakeup();
            return;
        }
        bqrelse(bp);
    }

    /** bqhold: keeps the buffer from being reused; does not prevent invalidation. */
    void bqhold(Buf bp) {
        bp.refs.incrementAndGet();
    }

    /**
     * bqdrop: releases a hold. The last hold on an invalidated buffer lets go of
     * its window, so that a retired window is not kept mapped by a header that
     * sits unused on EMPTY.
     */
    void bqdrop(Buf bp) {
        if (bp.refs.decrementAndGet() == 0) {
            dropUnusedWindow(bp);
        }
    }

    /**
     * An unheld, disassociated header lets go of its window. Called after both a
     * release and a drop, each of which may find the other still holding the lock
     * or the hold; whichever comes last does it, so no window waits for the header
     * to be reused.
     */
    private void dropUnusedWindow(Buf bp) {
        if (bp.refs.get() == 0 && bp.file == null && bp.windowRef != null && bp.lock.tryLock()) {
            if (bp.refs.get() == 0 && bp.file == null) {
                releaseWindow(bp);
            }
            BUF_UNLOCK(bp);
        }
    }

    void BUF_UNLOCK(Buf bp) {
        bp.lock.unlock();
    }

    // ---------------------------------------------------------------- dirty

    /**
     * bdirty: the pages in {@code mask} hold data not yet written back; accounts
     * them and heats the daemons up.
     */
    void bdirty(Buf bp, long mask) {
        bp.clearFlags(Buf.B_NOCACHE);
        long added = mask & ~bp.dirty;
        bp.dirty |= mask;
        boolean newBuffer = !bp.isSet(Buf.B_DELWRI);
        if (newBuffer) {
            bp.setFlags(Buf.B_DELWRI);
        }
        if (added != 0 || newBuffer) {
            long bytes = Long.bitCount(added) * validUnit;
            space.dirtied(bp, bytes, newBuffer);
            bp.file.stats.dirtyBytes.addAndGet(bytes);
            space.bd_heatup();
        }
    }

    /** bundirty: written back (or discarded): the dirty accounting lets go, waiting writers are signalled. */
    void bundirty(Buf bp) {
        if (bp.isSet(Buf.B_DELWRI)) {
            long bytes = Long.bitCount(bp.dirty) * validUnit;
            bp.dirty = 0;
            bp.clearFlags(Buf.B_DELWRI);
            space.undirtied(bp, bytes);
            bp.file.stats.dirtyBytes.addAndGet(-bytes);
        }
    }

    /** bdwrite: delayed write of the pages in {@code mask} of a locked, filled buffer; requeues it. */
    void bdwrite(Buf bp, long mask) {
        bdirty(bp, mask);
        bqrelse(bp);
    }

    /** The pages of {@code [inBlock, inBlock + length)} of the block, as {@link Buf#valid} bits. */
    long pages(long inBlock, long length) {
        long first = inBlock / validUnit;
        long last = (inBlock + length - 1) / validUnit;
        long width = last - first + 1;
        return (width >= 64 ? -1L : (1L << width) - 1) << first;
    }

    /** Every page of the buffer. */
    long allPages(Buf bp) {
        return pages(0, bp.size);
    }

    /** The pages in {@code mask} are now in memory; B_CACHE once all are. */
    void validate(Buf bp, long mask) {
        long v = bp.valid | mask;
        bp.valid = v;
        if ((v & allPages(bp)) == allPages(bp)) {
            bp.setFlags(Buf.B_CACHE);
        }
    }

    // ---------------------------------------------------------------- invalidation

    /**
     * Invalidates the locked buffer {@code bp} before the file changes under it
     * (TRIM, WRITE_ZEROES, close): its data is in the page cache, so dropping
     * B_DELWRI loses nothing but the accounting. Releases it to EMPTY.
     */
    void binvalidate(Buf bp) {
        bremfree(bp);
        bp.setFlags(Buf.B_INVAL | Buf.B_NOCACHE);
        bp.clearFlags(Buf.B_CACHE);
        bp.valid = 0;
        brelse(bp);
    }

    /** Takes the file out of the cache: it is closed; its windows are retired (its buffers must be gone). */
    void detach(CachedFile f) {
        files.remove(f);
        kva.retireAll(f);
    }

    /**
     * A retired window should be unmapped soon: drop the buffers that map through
     * it and that nobody holds, locks or has dirty (those go when released).
     */
    void evictWindow(Window w) {
        CachedFile f = w.file();
        long first = w.mapping().fileOffset() / space.bufferSize;
        long last = (w.mapping().fileOffset() + w.length() - 1) / space.bufferSize;
        for (long blkno = first; blkno <= last; blkno++) {
            Buf bp = f.hash.lookupHold(blkno);
            if (bp == null) {
                continue;
            }
            if (bp.windowRef == w && bp.lock.tryLock()) {
                if (bp.file == f && bp.windowRef == w && !bp.isSet(Buf.B_DELWRI)) {
                    bremfree(bp);
                    bp.setFlags(Buf.B_INVAL);
                    brelse(bp);
                } else {
                    BUF_UNLOCK(bp);
                }
            }
            bqdrop(bp);
        }
    }

    /** Unmaps what may be unmapped; called by the flushers on every pass. */
    int reclaimWindows() {
        return kva.reclaim();
    }

    @Override
    public void close() {
        kva.reclaim();
    }
}
