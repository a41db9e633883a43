package org.bufcached.daemon.export;

import io.netty.buffer.ByteBuf;

/**
 * The storage behind one export, as the transmission handler sees it. Requests
 * arrive already checked against the export's size, its read-only state and the
 * protocol's limits: a store only does the I/O. Methods never block the calling
 * thread (an event loop); slow work goes to an I/O worker and the callback reports
 * the outcome.
 *
 * <p>The buffer cache's {@code CachedStore} implements it over mapped buffers.
 */
public interface BlockStore extends AutoCloseable {

    /** The cache's counters for this store's file, for the export's metrics. */
    org.bufcached.daemon.cache.FileStats stats();

    /** Size in bytes, fixed while the store is open. */
    long size();

    /** Reads {@code length} bytes at {@code offset}; the data goes to {@link IoCallback#succeeded}. */
    void read(long offset, int length, IoCallback done);

    /**
     * Writes {@code data} (owned by the store from now on) at {@code offset}. With
     * {@code fua} the range is on stable storage before the callback.
     */
    void write(long offset, ByteBuf data, boolean fua, IoCallback done);

    /** Every write completed before this call is on stable storage before the callback. */
    void flush(IoCallback done);

    /** Discards the range (punches a hole); reads of it return zeroes afterwards. */
    void trim(long offset, long length, boolean fua, IoCallback done);

    /**
     * Makes the range read as zeroes. {@code noHole}: the range stays allocated.
     * {@code fastZero}: fail with ENOTSUP at once, changing nothing, unless zeroing
     * is faster than writing.
     */
    void writeZeroes(long offset, long length, boolean noHole, boolean fastZero, boolean fua, IoCallback done);

    /** Primes the cache for the range; completes when it is primed or prefetch was started. */
    void cache(long offset, long length, IoCallback done);

    /**
     * Allocation status of the range for {@code base:allocation}, as descriptors of
     * NBD_STATE_HOLE / NBD_STATE_ZERO flags: at least one, at most {@code maxExtents},
     * the first covering {@code offset}, their lengths together never past the end
     * of the export.
     */
    void blockStatus(long offset, long length, int maxExtents, IoCallback done);

    /** Writes back what is dirty, syncs and releases the file. */
    @Override
    void close();
}
