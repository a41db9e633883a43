package org.bufcached.daemon.export;

import io.netty.buffer.ByteBuf;
import org.bufcached.daemon.cache.CacheCallback;
import org.bufcached.daemon.cache.FileStats;

/**
 * The storage behind one export, as the transmission handler sees it: NBD's
 * commands with their flags, already checked against the export's size, its
 * read-only state and the protocol's limits. Methods never block the calling
 * thread (an event loop); the callback reports the outcome, and a failure's cause
 * becomes an NBD error through {@link NbdErrors}.
 */
public interface BlockStore extends AutoCloseable {

    /** Size in bytes, as told to clients. */
    long size();

    /** The cache's counters for this store's file, for the export's metrics. */
    FileStats stats();

    /** "clean", or what data is in doubt after an I/O error and why FLUSH is refused. */
    String durabilityState();

    /** Reads {@code length} bytes at {@code offset}; the data goes to {@link CacheCallback#done}. */
    void read(long offset, int length, CacheCallback done);

    /**
     * Writes {@code data} (owned by the store from now on) at {@code offset}. With
     * {@code fua} the range is on stable storage before the callback.
     */
    void write(long offset, ByteBuf data, boolean fua, CacheCallback done);

    /** Every write completed before this call is on stable storage before the callback. */
    void flush(CacheCallback done);

    /** Discards the range (punches a hole); reads of it return zeroes afterwards. */
    void trim(long offset, long length, boolean fua, CacheCallback done);

    /**
     * Makes the range read as zeroes. {@code noHole}: the range stays allocated.
     * {@code fastZero}: fail with ENOTSUP at once, changing nothing, unless zeroing
     * is faster than writing.
     */
    void writeZeroes(long offset, long length, boolean noHole, boolean fastZero, boolean fua, CacheCallback done);

    /** Starts prefetching the range; completes once that is under way. */
    void cache(long offset, long length, CacheCallback done);

    /**
     * Allocation status of the range for {@code base:allocation}, as descriptors of
     * NBD_STATE_HOLE / NBD_STATE_ZERO flags: at least one, at most {@code maxExtents},
     * the first covering {@code offset}, their lengths together never past the end
     * of the export. {@code wide}: in the extended headers' layout (64-bit length,
     * 64-bit status, see {@link Descriptors}), else in the 32-bit one.
     */
    void blockStatus(long offset, long length, int maxExtents, boolean wide, CacheCallback done);

    /**
     * A connection sends its first WRITE. Its client will most likely FLUSH (the
     * kernel's nbd client, qemu and nbdfuse do), and that first FLUSH should not have
     * to write back everything written since the connection began.
     */
    default void writerConnected() {
    }

    /**
     * A WRITE, TRIM or WRITE_ZEROES of the range succeeded and is about to be
     * answered: a dirty bitmap cleared or added while it was in flight records it
     * again here.
     */
    default void changeAcknowledged(long offset, long length) {
    }

    /** Lets go of the file: waits (bounded) for the operations in flight, syncs, closes. Not on an event loop. */
    @Override
    void close();
}
