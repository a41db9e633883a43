package org.bufcached.daemon.cache;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One bit per page of a file, sparse: leaves of {@value #LEAF_PAGES} pages (128 MiB
 * of file with 4 KiB pages, 4 KiB of memory) are allocated when a bit in them is
 * first set and kept. A terabyte file costs 64 KiB of leaf table until it is
 * written to.
 *
 * <p>Setting and clearing bits is lock-free and may race with anything; the
 * whole-map operations ({@link #or}, {@link #clear()}) are consistent only with
 * respect to bits set before they started, which is all {@link Durability} needs
 * (it says why at each use).
 */
final class PageBitmap {
    static final int LEAF_WORDS = 512;
    static final int LEAF_PAGES = LEAF_WORDS * 64;

    private final long pages;
    private final AtomicReferenceArray<AtomicLongArray> leaves;

    PageBitmap(long pages) {
        this.pages = pages;
        this.leaves = new AtomicReferenceArray<>((int) ((pages + LEAF_PAGES - 1) / LEAF_PAGES));
    }

    long pages() {
        return pages;
    }

    /** Sets pages {@code [first, first + count)}. */
    void set(long first, long count) {
        long end = Math.min(pages, first + count);
        for (long p = first; p < end; ) {
            AtomicLongArray leaf = leafFor(p, true);
            int word = (int) ((p % LEAF_PAGES) >>> 6);
            int bit = (int) (p & 63);
            int n = (int) Math.min(64 - bit, end - p);
            long mask = n == 64 ? -1L : ((1L << n) - 1) << bit;
            long old;
            do {
                old = leaf.get(word);
            } while ((old & mask) != mask && !leaf.compareAndSet(word, old, old | mask));
            p += n;
        }
    }

    /** Clears pages {@code [first, first + count)}. */
    void clear(long first, long count) {
        long end = Math.min(pages, first + count);
        for (long p = first; p < end; ) {
            AtomicLongArray leaf = leafFor(p, false);
            if (leaf == null) {
                p = (p / LEAF_PAGES + 1) * LEAF_PAGES;
                continue;
            }
            int word = (int) ((p % LEAF_PAGES) >>> 6);
            int bit = (int) (p & 63);
            int n = (int) Math.min(64 - bit, end - p);
            long mask = n == 64 ? -1L : ((1L << n) - 1) << bit;
            long old;
            do {
                old = leaf.get(word);
            } while ((old & mask) != 0 && !leaf.compareAndSet(word, old, old & ~mask));
            p += n;
        }
    }

    boolean get(long page) {
        AtomicLongArray leaf = leafFor(page, false);
        return leaf != null && (leaf.get((int) ((page % LEAF_PAGES) >>> 6)) & (1L << (page & 63))) != 0;
    }

    /** Whether any page of {@code [first, first + count)} is set. */
    boolean any(long first, long count) {
        long next = nextSet(first);
        return next >= 0 && next < first + count;
    }

    /** The first set page at or after {@code from}, or -1. */
    long nextSet(long from) {
        for (long p = Math.max(0, from); p < pages; ) {
            AtomicLongArray leaf = leafFor(p, false);
            if (leaf == null) {
                p = (p / LEAF_PAGES + 1) * LEAF_PAGES;
                continue;
            }
            int word = (int) ((p % LEAF_PAGES) >>> 6);
            long bits = leaf.get(word) & (-1L << (p & 63));
            if (bits != 0) {
                long found = p - (p & 63) + Long.numberOfTrailingZeros(bits);
                return found < pages ? found : -1;
            }
            p = p - (p & 63) + 64;
        }
        return -1;
    }

    /** The first clear page at or after {@code from}, or {@link #pages()}. */
    long nextClear(long from) {
        for (long p = Math.max(0, from); p < pages; ) {
            AtomicLongArray leaf = leafFor(p, false);
            if (leaf == null) {
                return p;
            }
            int word = (int) ((p % LEAF_PAGES) >>> 6);
            long bits = ~leaf.get(word) & (-1L << (p & 63));
            if (bits != 0) {
                return Math.min(pages, p - (p & 63) + Long.numberOfTrailingZeros(bits));
            }
            p = p - (p & 63) + 64;
        }
        return pages;
    }

    boolean isEmpty() {
        return nextSet(0) < 0;
    }

    /** Pages set now. */
    long cardinality() {
        long n = 0;
        for (int i = 0; i < leaves.length(); i++) {
            AtomicLongArray leaf = leaves.get(i);
            if (leaf != null) {
                for (int w = 0; w < LEAF_WORDS; w++) {
                    n += Long.bitCount(leaf.get(w));
                }
            }
        }
        return n;
    }

    /** Sets every page that is set in {@code other} (of the same file). */
    void or(PageBitmap other) {
        for (int i = 0; i < leaves.length(); i++) {
            AtomicLongArray theirs = other.leaves.get(i);
            if (theirs == null) {
                continue;
            }
            AtomicLongArray mine = null;
            for (int w = 0; w < LEAF_WORDS; w++) {
                long bits = theirs.get(w);
                if (bits == 0) {
                    continue;
                }
                if (mine == null) {
                    mine = leafFor((long) i * LEAF_PAGES, true);
                }
                long old;
                do {
                    old = mine.get(w);
                } while ((old | bits) != old && !mine.compareAndSet(w, old, old | bits));
            }
        }
    }

    /** Clears every page; the leaves stay for the next use. */
    void clear() {
        for (int i = 0; i < leaves.length(); i++) {
            AtomicLongArray leaf = leaves.get(i);
            if (leaf != null) {
                for (int w = 0; w < LEAF_WORDS; w++) {
                    if (leaf.get(w) != 0) {
                        leaf.set(w, 0);
                    }
                }
            }
        }
    }

    private AtomicLongArray leafFor(long page, boolean create) {
        int index = (int) (page / LEAF_PAGES);
        AtomicLongArray leaf = leaves.get(index);
        if (leaf == null && create) {
            leaves.compareAndSet(index, null, new AtomicLongArray(LEAF_WORDS));
            leaf = leaves.get(index);
        }
        return leaf;
    }

    /** The set pages as byte ranges, for a log line: {@code [0, +8192) [65536, +4096)}, at most {@code max} of them. */
    String describe(long pageSize, int max) {
        StringBuilder sb = new StringBuilder();
        int shown = 0;
        for (long p = nextSet(0); p >= 0; ) {
            long end = nextClear(p);
            if (shown == max) {
                sb.append(" ...");
                break;
            }
            if (shown > 0) {
                sb.append(' ');
            }
            sb.append('[').append(p * pageSize).append(", +").append((end - p) * pageSize).append(')');
            shown++;
            p = end < pages ? nextSet(end) : -1;
        }
        return sb.toString();
    }
}
