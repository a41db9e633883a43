package org.bufcached.daemon.cache;

import org.bufcached.daemon.io.FileIo;

/**
 * A change of a file's range behind the buffers' back (TRIM, WRITE_ZEROES), or
 * just the invalidation of a range (a file closed, a file that shrank): first
 * every buffer of the range is invalidated, each locked as it comes (a locked one
 * parks the operation until it is released: no thread ever waits), then the
 * change is applied, then, with {@code sync}, the file is synced.
 *
 * <p>Pages in doubt after an I/O error that the change covers whole get new
 * contents, so they leave the recovery's list first: a recovery already rewriting
 * one holds its buffer, and this operation waits for it before changing the file.
 */
final class ChangeOp extends CacheOp implements Durability.SyncWaiter {
    /** Look blocks up one by one below this many per buffer of the file; collect the file's instead above. */
    private static final long SCAN_RATIO = 4;

    private final long offset;
    private final long length;
    private final FileChange change;
    private final boolean sync;
    private long next;
    private final long last;
    /** When set, the blocks to visit (those with a buffer), instead of every block from {@link #next}. */
    private long[] blocks;
    private int blockIndex;
    private long generation;

    private ChangeOp(long offset, long length, FileChange change, boolean sync, long first, long last) {
        this.offset = offset;
        this.length = length;
        this.change = change;
        this.sync = sync;
        this.next = first;
        this.last = last;
    }

    /**
     * Invalidates the buffers of {@code [offset, offset + length)}, then applies
     * {@code change} (may be null: invalidation only), then syncs if asked.
     */
    static void start(BufCache cache, CachedFile file, FileIo io, long offset, long length, FileChange change,
                      boolean sync, CacheCallback callback) {
        long bsize = cache.space.bufferSize;
        long first = offset / bsize;
        long last = length == 0 ? first - 1 : (offset + length - 1) / bsize;
        ChangeOp op = new ChangeOp(offset, length, change, sync, first, last);
        op.init(cache, file, io, callback);
        if (change != null) {
            file.durability.redefined(offset, length);
        }
        if (last - first + 1 > SCAN_RATIO * Math.max(1, file.hash.size())) {
            op.blocks = file.hash.blocksIn(first, last);
        }
        op.run();
    }

    @Override
    void step() throws Exception {
        if (change != null && file.closed()) {
            throw CacheClosedException.INSTANCE;
        }
        while (true) {
            long blkno;
            if (blocks != null) {
                if (blockIndex == blocks.length) {
                    break;
                }
                blkno = blocks[blockIndex];
            } else {
                if (next > last) {
                    break;
                }
                blkno = next;
            }
            Buf bp = file.hash.lookupHold(blkno);
            if (bp != null) {
                if (!bp.lock.tryLock()) {
                    boolean parked = bp.lock.park(resume);
                    cache.bqdrop(bp);
                    if (parked) {
                        waiting(CacheOp.BUFFER_LOCK);
                        return;
                    }
                    continue;
                }
                if (bp.file == file && bp.blkno == blkno) {
                    cache.kvabio.bkvasync_all(bp);
                    cache.binvalidate(bp);
                } else {
                    cache.BUF_UNLOCK(bp);
                }
                cache.bqdrop(bp);
            }
            if (blocks != null) {
                blockIndex++;
            } else {
                next++;
            }
        }
        if (change == null) {
            finish(null);
            return;
        }
        generation = file.durability.generation();
        waiting(CacheOp.FILE_CHANGE);
        enterWorkers();
        change.apply(io, file.fd, offset, length, this);
    }

    @Override
    void completed(long result) throws Exception {
        leftWorkers();
        if (result < 0) {
            throw failure("fallocate", result, file, offset, length);
        }
        file.durability.written(offset, length, generation);
        if (sync) {
            waiting(CacheOp.SYNC);
            file.durability.sync(this, io);
            return;
        }
        finish(null);
    }

    @Override
    public void synced(Throwable failure) {
        io.loop().execute(() -> finish(failure));
    }

    private void finish(Throwable failure) {
        if (failure != null) {
            callback.failed(failure);
        } else {
            callback.done(null);
        }
    }

    @Override
    void abort(Throwable cause) {
        leftWorkers();
        callback.failed(cause);
    }
}
