package org.bufcached.daemon.cache;

/**
 * Sequential read detection for one file (breadn's read-ahead): when reads keep
 * starting where the previous one ended, the range ahead of the reader is
 * announced to the kernel (MADV_WILLNEED) before it is asked for, growing from
 * the first read's size up to a limit. Updated on event loops without a lock; a
 * lost update only costs a read-ahead.
 */
final class ReadAhead {
    static final long MAX_WINDOW = 4L << 20;

    private volatile long lastEnd = -1;
    private volatile long aheadStart;
    private volatile long aheadEnd;
    private volatile long window;

    /** Whether a read at {@code offset} lands in the range last read ahead. */
    boolean covers(long offset) {
        return offset >= aheadStart && offset < aheadEnd;
    }

    /** Where the read-ahead that {@link #observe} asked for starts. */
    long aheadStart() {
        return aheadStart;
    }

    int aheadLength() {
        return (int) (aheadEnd - aheadStart);
    }

    /**
     * Notes a read of {@code [offset, offset + length)}; returns true when the range
     * from {@link #aheadStart()} for {@link #aheadLength()} bytes should be read ahead.
     */
    boolean observe(long offset, long length, long fileSize) {
        boolean sequential = offset == lastEnd;
        long end = offset + length;
        lastEnd = end;
        if (!sequential) {
            window = 0;
            return false;
        }
        long w = window == 0 ? Math.max(length * 4, 256 << 10) : Math.min(window * 2, MAX_WINDOW);
        window = w;
        long start = Math.max(end, aheadEnd);
        if (start - end >= w / 2 || start >= fileSize) {
            return false; // still far enough ahead
        }
        long stop = Math.min(fileSize, end + w);
        if (stop <= start) {
            return false;
        }
        aheadStart = start;
        aheadEnd = stop;
        return true;
    }
}
