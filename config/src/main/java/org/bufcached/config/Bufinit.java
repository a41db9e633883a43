package org.bufcached.config;

/**
 * Defaults of the cache tunables, derived from the cache size the way
 * DragonFly's {@code bufinit()} derives them (seeds/vfs_bio.c.listing.txt,
 * lines 663-692), with the buffer size in the role of {@code MAXBSIZE}.
 * Each rule takes the resolved value it depends on, so setting one tunable
 * moves the ones derived from it and the defaults stay consistent.
 *
 * <pre>
 * maxbufspace     = size
 * hibufspace      = max(3/4 maxbufspace, maxbufspace - 10 buffers)
 * lobufspace      = 7/8 hibufspace, but at most 64MiB and at least one buffer below hibufspace
 * hidirtybufspace = 3/4 hibufspace
 * lodirtybufspace = 2/3 hidirtybufspace
 * hirunningspace  = hibufspace / 16, at least 1MiB, at most hidirtybufspace
 * lorunningspace  = 2/3 hirunningspace
 * </pre>
 *
 * The dirty marks are higher than the seed's (1/2 and 1/4 of hibufspace): there
 * the dirty data occupies the buffer cache's own memory and must be written to
 * be reused; here it is the kernel's page cache, which writes it back on its own
 * and bounds it with its own dirty limits. Starting write-back while the dirty
 * set is still a fraction of the cache only repeats that work for every rewrite
 * of a hot range: 1 MiB rewrites of a 1 GiB file, on the default cache, cost
 * 940-1310 us of CPU each with the seed's marks and 570-810 us with these (the
 * whole file dirty crossed the seed's lodirtybufspace). FLUSH and the sync
 * interval bound what is in doubt, not these marks. The flushers drain to
 * lodirtybufspace itself (the daemon's BufSpace.buf_daemon_limit), not to half.
 *
 * With the default 4GiB cache of 64KiB buffers that gives a 4095.4MiB
 * hibufspace, 4031.4MiB lobufspace, 3071.6MiB hidirtybufspace, 2047.7MiB
 * lodirtybufspace and a just under 256MiB hirunningspace. The cache holds buffer
 * headers only, so a large default costs about ten megabytes of heap.
 */
final class Bufinit {
    static final long MIB = 1024 * 1024;
    static final long SIZE = 4096 * MIB;
    static final long BUFFER_SIZE = 64 * 1024;
    static final int FLUSHPERQUEUE = 64;
    static final long CLUSTER_LIMIT = MIB;
    static final long WINDOW_SIZE = 1024 * MIB;
    static final long MAX_MAPPED = 64 * 1024 * MIB;

    private static final long MAX_BUFSPACE_HYSTERESIS = 64 * MIB;
    private static final long MIN_HIRUNNINGSPACE = MIB;

    private Bufinit() {
    }

    static long hibufspace(long maxbufspace, long bufferSize) {
        return Math.max(3 * maxbufspace / 4, maxbufspace - 10 * bufferSize);
    }

    static long lobufspace(long hibufspace, long bufferSize) {
        long lobufspace = Math.max(hibufspace * 7 / 8, hibufspace - MAX_BUFSPACE_HYSTERESIS);
        return Math.max(0, Math.min(lobufspace, hibufspace - bufferSize));
    }

    static long hidirtybufspace(long hibufspace) {
        return hibufspace / 4 * 3;
    }

    static long lodirtybufspace(long hidirtybufspace) {
        return hidirtybufspace / 3 * 2;
    }

    static long hirunningspace(long hibufspace, long hidirtybufspace) {
        return Math.min(Math.max(hibufspace / 16, MIN_HIRUNNINGSPACE), hidirtybufspace);
    }

    static long lorunningspace(long hirunningspace) {
        return hirunningspace * 2 / 3;
    }

    /** One event loop per core. */
    static int eventLoops() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** How old a file's first unsynced write may grow before the flushers sync it. */
    static final java.time.Duration SYNC_INTERVAL = java.time.Duration.ofSeconds(5);
}
