package org.bufcached.daemon.cache;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoLoops;
import org.bufcached.daemon.store.BackingFile;
import org.bufcached.daemon.store.PageCacheWrites;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.Posix;
import org.bufcached.daemon.store.PosixException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backing file as the cache sees it (the vnode): its buffers by block number,
 * its windows, its flush class, its sequential-read state, what of it is proven
 * durable, and its counters.
 *
 * <p>Three open file descriptions: {@link #fd} for the data (writes, reads,
 * fallocate), {@link #writebackFd} for the flushers' sync_file_range and
 * {@link #syncFd} for fdatasync (FLUSH, FUA). Linux reports a write-back error
 * once to each description: with their own, the flushers seeing an error cannot
 * hide it from the next FLUSH, and the daemon records each one itself too
 * ({@link Durability}).
 *
 * <p>Windows are mapped off the event loops: a loop that needs an unmapped window
 * parks its request here and the mapping runs on the blocking pool. Guarded by
 * {@code this}: {@link #mapping} (windows being mapped and who waits for them)
 * and {@link #mapErrors}.
 */
public final class CachedFile {
    private static final Logger LOG = LoggerFactory.getLogger(CachedFile.class);

    private final String name;
    private final BackingFile backing;
    private final long size;
    /** Where the file ends as far as the daemon knows: the export's size, or less once the file shrank. */
    private volatile long fileEnd;
    private final boolean heavy;
    private final KvaMap kva;
    private final AtomicReferenceArray<Window> windows;
    private final Map<Integer, List<Runnable>> mapping = new HashMap<>();
    private final Map<Integer, PosixException> mapErrors = new HashMap<>();
    final int fd;
    final int writebackFd;
    final int syncFd;
    final BufHash hash = new BufHash();
    final ReadAhead readAhead = new ReadAhead();
    final FileStats stats = new FileStats();
    final Durability durability;
    final LoopWrites loopWrites;
    private volatile boolean closed;
    /** How a contiguous dirty range goes back to the file; a test may slow one file down or fail it. */
    volatile WriteBack writeBack = WriteBack.SYNC_FILE_RANGE;

    /** Starts writing back {@code length} bytes at {@code offset} of the file and waits for them, on {@code io}. */
    @FunctionalInterface
    interface WriteBack {
        WriteBack SYNC_FILE_RANGE = (file, io, offset, length, done) -> io.syncFileRange(file.writebackFd, offset,
                length, Posix.SYNC_FILE_RANGE_WAIT_BEFORE | Posix.SYNC_FILE_RANGE_WRITE
                        | Posix.SYNC_FILE_RANGE_WAIT_AFTER, done);

        void start(CachedFile file, FileIo io, long offset, int length, org.bufcached.daemon.io.IoCompletion done);
    }

    CachedFile(String name, BackingFile backing, long size, boolean heavy, KvaMap kva, IoLoops loops)
            throws PosixException {
        this.name = name;
        this.backing = backing;
        this.size = size;
        this.fileEnd = size;
        this.heavy = heavy;
        this.kva = kva;
        this.windows = new AtomicReferenceArray<>((int) ((size + kva.windowSize() - 1) / kva.windowSize()));
        this.fd = backing.fd();
        this.writebackFd = backing.openDescription();
        this.syncFd = backing.openDescription();
        this.durability = new Durability(name, size, syncFd, Posix.pageSize(), stats,
                loops == null ? () -> IoLoops.current() : loops::here);
        PageCacheWrites kernel = PageCacheWrites.of(backing.path());
        this.loopWrites = new LoopWrites(name, kernel);
        if (kernel.mayWaitForDisk()) {
            LOG.info("export {}: every write goes to the I/O workers, none is made on an event loop ({})", name,
                    kernel.reason());
        } else {
            LOG.info("export {}: writes of whole {}-byte blocks up to {} KiB may be made on the event loop ({})",
                    name, kernel.alignment(), LoopWrites.MAX_LENGTH >> 10, kernel.reason());
        }
    }

    public String name() {
        return name;
    }

    public BackingFile backing() {
        return backing;
    }

    /** The data descriptor: writes, reads, fallocate, lseek. */
    public int fd() {
        return fd;
    }

    /** The export's size, as told to clients. */
    public long size() {
        return size;
    }

    /** Where the file ends now as far as the daemon knows ({@link #size()} unless it shrank). */
    long fileEnd() {
        return fileEnd;
    }

    public boolean heavy() {
        return heavy;
    }

    public FileStats stats() {
        return stats;
    }

    /** What of the file is in doubt after an I/O error, in one line ("clean" when nothing). */
    public String durabilityState() {
        return durability.describe();
    }

    /**
     * The last fdatasync, when the export closes: blocking, on the caller's thread
     * (never a loop). A failure puts the file in doubt like any other.
     */
    public void finalSync() throws PosixException {
        try {
            Posix.fdatasync(syncFd);
        } catch (PosixException e) {
            durability.failed(e.errno(), "the last fdatasync");
            throw e;
        }
    }

    boolean closed() {
        return closed;
    }

    void markClosed() {
        closed = true;
        durability.close();
    }

    /**
     * The live window that maps {@code loffset}, with a reference taken for the
     * caller. On an event loop a window that is not mapped yet is mapped on the
     * blocking pool: the call returns null and {@code waiter} (if any) runs once the
     * mapping is done or failed, on the pool's thread. Elsewhere it maps at once.
     */
    Window acquireWindow(long loffset, Runnable waiter) throws PosixException {
        int index = (int) (loffset / kva.windowSize());
        for (;;) {
            Window w = windows.get(index);
            if (w != null && !w.retired) {
                w.refs.incrementAndGet();
                if (!w.retired) {
                    w.lastUse = System.nanoTime();
                    return w;
                }
                w.refs.decrementAndGet();
            }
            FileIo io = IoLoops.current();
            synchronized (this) {
                w = windows.get(index);
                if (w != null && !w.retired) {
                    continue;
                }
                PosixException failed = mapErrors.remove(index);
                if (failed != null) {
                    throw failed;
                }
                if (io == null) {
                    windows.set(index, kva.map(this, index));
                    continue;
                }
                List<Runnable> waiters = mapping.get(index);
                if (waiters == null) {
                    waiters = new ArrayList<>(2);
                    mapping.put(index, waiters);
                    try {
                        io.offload(() -> {
                            mapOffLoop(index);
                            return 0;
                        }, NOTHING);
                    } catch (RuntimeException e) {
                        mapping.remove(index); // nobody would ever map it: the next caller tries again
                        throw e;
                    }
                }
                if (waiter != null) {
                    waiters.add(waiter);
                }
                return null;
            }
        }
    }

    private static final org.bufcached.daemon.io.IoCompletion NOTHING = result -> { };

    /** On the blocking pool: maps the window, then lets its waiters retry. */
    private void mapOffLoop(int index) {
        List<Runnable> waiters;
        synchronized (this) {
            try {
                Window w = windows.get(index);
                if (w == null || w.retired) {
                    windows.set(index, kva.map(this, index));
                }
            } catch (PosixException e) {
                LOG.warn("export {}: mapping window {} failed: {}", name, index, e.getMessage());
                mapErrors.put(index, e);
            } catch (RuntimeException e) {
                LOG.error("export {}: mapping window {} failed", name, index, e);
                mapErrors.put(index, new PosixException("mmap", Errno.EIO, "window " + index + ": " + e));
            }
            waiters = mapping.remove(index);
        }
        if (waiters != null) {
            waiters.forEach(Runnable::run);
        }
    }

    /** The window went out of service; the next access maps a new one. */
    void forgetWindow(Window w) {
        windows.compareAndSet(w.index(), w, null);
    }

    int windowCount() {
        return windows.length();
    }

    Window windowAt(int index) {
        return windows.get(index);
    }

    /**
     * Checks the file's size against the export's: a file cut short under the
     * export (an operator's accident) must not be served past its new end, where
     * touching a mapped page would raise SIGBUS. Returns the new, smaller size, or
     * -1 when the file is as large as it was. Blocking (lseek); off the loops.
     */
    long checkShrunk() {
        try {
            long now = backing.size();
            long was = fileEnd;
            if (now < was) {
                fileEnd = now;
                LOG.warn("export {}: {} shrank from {} to {} bytes while exported; reads and writes past the new end"
                        + " are refused with EIO until the export is reloaded", name, backing.path(), was, now);
                return now;
            }
        } catch (PosixException e) {
            LOG.debug("export {}: size check failed: {}", name, e.getMessage());
        }
        return -1;
    }

    /** Whether the path named another file (or none) at the last check; logged once per change. */
    private volatile boolean replaced;

    /**
     * Checks that the export's path still names the open file: an operator who
     * removes the file or renames another over it leaves the daemon serving the
     * old, deleted inode, whose data is gone once the daemon stops. Blocking (a
     * stat); off the loops. Returns true while the path names another file or none.
     */
    boolean checkReplaced() {
        String now = backing.pathIdentity();
        boolean differs = !backing.identity().equals(now);
        if (differs && !replaced) {
            LOG.warn("export {}: {} {} while exported: the daemon still serves the file it opened, which is no longer"
                    + " reachable by that path; what clients write now is lost when the daemon stops. Reload the"
                    + " export (or restart) to serve the file the path names now", name, backing.path(),
                    now.isEmpty() ? "was removed" : "was replaced by another file");
        } else if (!differs && replaced) {
            LOG.info("export {}: {} names the exported file again", name, backing.path());
        }
        replaced = differs;
        return differs;
    }

    /** Checks the size at once (after an I/O error that suggests the file ended); off the loops. */
    void checkSoon(BufCache cache, FileIo io) {
        io.offload(() -> checkShrunk(), result -> {
            if (result >= 0) {
                cache.shrunk(this);
            }
        });
    }

    @Override
    public String toString() {
        return name;
    }
}
