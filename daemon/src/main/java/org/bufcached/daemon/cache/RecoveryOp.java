package org.bufcached.daemon.cache;

import io.netty.buffer.ByteBuf;
import org.bufcached.daemon.io.DataBuffers;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.Syscalls;

/**
 * The recovery after an I/O error: every page in doubt ({@link Durability}'s
 * suspect pages) is written again from the page cache, so that the kernel holds
 * it dirty once more and the next sync writes it. Block by block, under the
 * buffer lock, as a client write would be: nothing can change the page between
 * the read and the write. A page no longer in memory would come back from the
 * disk with what the failed write-back left there, so it is declared lost instead
 * of being "recovered": the pages are first looked up through the buffer's
 * mapping (mincore, which reads nothing in), and the read of those found may not
 * wait for the disk (RWF_NOWAIT) should one be evicted in between. What remains
 * is a page evicted in those microseconds and read back at once by the read's own
 * read-ahead, or by another process reading the backing file.
 */
final class RecoveryOp extends CacheOp {
    private static final int READING = 0;
    private static final int WRITING = 1;

    private final Durability durability;
    private final int shift;
    private final ByteBuf scratch;
    private long cursor;
    private Buf bp;
    private long runStart;
    private long runEnd;
    private int runBytes;
    private int phase;
    private int done;
    private long generation;

    private RecoveryOp(BufCache cache, CachedFile file, FileIo io) {
        this.durability = file.durability;
        this.shift = durability.pageShift();
        init(cache, file, io, LOGGING);
        this.scratch = DataBuffers.ALLOC.directBuffer((int) cache.space.bufferSize);
    }

    /** Starts recoveries for one file's {@link Durability}. */
    static final class Starter implements Durability.Recovery {
        private final BufCache cache;
        private final CachedFile file;

        Starter(BufCache cache, CachedFile file) {
            this.cache = cache;
            this.file = file;
        }

        @Override
        public void recover(Durability durability, FileIo io) {
            new RecoveryOp(cache, file, io).run();
        }
    }

    /** Recovery answers no client; what it finds goes to the log through Durability. */
    private static final CacheCallback LOGGING = new CacheCallback() {
        @Override
        public void done(io.netty.buffer.ByteBuf data) {
        }

        @Override
        public void failed(Throwable cause) {
        }
    };

    @Override
    void step() throws Exception {
        long bsize = cache.space.bufferSize;
        for (;;) {
            if (file.closed()) {
                finish();
                return;
            }
            if (bp == null) {
                long page = durability.nextSuspect(cursor);
                if (page < 0) {
                    finish();
                    return;
                }
                long blkno = (page << shift) / bsize;
                bp = cache.getblk(file, blkno, resume);
                if (bp == null) {
                    return; // parked until the buffer is free
                }
                cursor = page;
            }
            long blockEndPage = (bp.loffset + bp.size + (1L << shift) - 1) >>> shift;
            long[] run = durability.nextSuspectRun(Math.max(cursor, bp.loffset >>> shift), blockEndPage);
            if (run == null) {
                cache.bqrelse(bp);
                bp = null;
                cursor = blockEndPage;
                continue;
            }
            runStart = run[0];
            runEnd = run[1];
            if (!keepResident()) {
                cursor = runEnd;
                continue;
            }
            done = 0;
            phase = READING;
            io.read(file.fd, scratch.memoryAddress(), runBytes, runStart << shift, Syscalls.RWF_NOWAIT, this);
            return;
        }
    }

    /**
     * Shortens the run to its pages still in memory, declaring the rest lost;
     * false when none is. Asked of the mapping first because the read that follows,
     * even with RWF_NOWAIT, may bring a missing page back from the disk.
     */
    private boolean keepResident() {
        long resident = residentPages(bp, runStart << shift, (runEnd - runStart) << shift, shift);
        if (resident < runEnd - runStart) {
            durability.lost(runStart + Math.max(resident, 0), runEnd, resident < 0
                    ? "cannot tell whether it is in memory (" + Errno.name((int) -resident) + ")"
                    : "no longer in memory");
            runEnd = runStart + Math.max(resident, 0);
        }
        runBytes = (int) (Math.min(runEnd << shift, file.size()) - (runStart << shift));
        return resident > 0;
    }

    @Override
    void completed(long result) throws Exception {
        if (phase == READING) {
            long resident = result < 0 ? 0 : (result >>> shift);
            if (result == runBytes) {
                resident = runEnd - runStart;
            }
            if (resident < runEnd - runStart) {
                durability.lost(runStart + resident, runEnd, result < 0 && result != -Errno.EAGAIN
                        ? Errno.name((int) -result) : "no longer in memory");
            }
            if (resident == 0) {
                nextRun();
                return;
            }
            runEnd = runStart + resident;
            runBytes = (int) (Math.min(runEnd << shift, file.size()) - (runStart << shift));
            phase = WRITING;
            generation = durability.generation();
            io.write(file.fd, scratch.memoryAddress(), runBytes, runStart << shift, this);
            return;
        }
        if (result < 0) {
            durability.lost(runStart, runEnd, "rewrite failed with " + Errno.name((int) -result));
            nextRun();
            return;
        }
        done += (int) result;
        if (done < runBytes) {
            io.write(file.fd, scratch.memoryAddress() + done, runBytes - done, (runStart << shift) + done, this);
            return;
        }
        durability.rewritten(runStart, runEnd);
        long from = runStart << shift;
        cache.bdirty(bp, cache.pages(from - bp.loffset, runBytes));
        durability.written(from, runBytes, generation);
        nextRun();
    }

    private void nextRun() {
        cursor = runEnd;
        run();
    }

    private void finish() {
        if (bp != null) {
            cache.bqrelse(bp);
            bp = null;
        }
        scratch.release();
        durability.recoveryFinished(io);
    }

    @Override
    void abort(Throwable cause) {
        org.slf4j.LoggerFactory.getLogger(RecoveryOp.class).error("recovery of {} failed", file, cause);
        try {
            if (bp != null) {
                cache.brelse(bp);
                bp = null;
            }
        } finally {
            scratch.release();
            durability.recoveryFinished(io);
        }
    }
}
