package org.bufcached.daemon.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Where the system's dirty page cache stands against the kernel's own limits, from
 * /proc/vmstat. A buffered write may sleep in balance_dirty_pages once dirty and
 * under-write-back pages pass the mid-point between the background threshold and
 * the dirty threshold; below the background threshold the kernel throttles no
 * writer. Anything unreadable counts as above.
 *
 * <p>Whoever asks refreshes an answer older than 50 ms, one thread at a time
 * (the others take the answer at hand): reading /proc/vmstat never waits for a
 * disk and allocates nothing, and the caller is the thread about to write, so
 * the answer is fresh whenever it matters, even while the flushers wait for a
 * slow disk. Until the first sample the answer is "above".
 *
 * <p>A memory cgroup with a limit has its own, lower thresholds that /proc/vmstat
 * does not show; the daemon's unit sets none.
 */
public final class KernelDirty {
    private static final Path VMSTAT = Path.of("/proc/vmstat");
    private static final long SAMPLE_NANOS = 50_000_000L;
    private static final byte[] DIRTY = "nr_dirty".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] WRITEBACK = "nr_writeback".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BACKGROUND = "nr_dirty_background_threshold".getBytes(StandardCharsets.US_ASCII);

    /** Held by the one thread sampling; guards {@link #vmstat} and {@link #text}. */
    private static final AtomicBoolean SAMPLING = new AtomicBoolean();
    /** /proc/vmstat, kept open: each read from offset 0 is a new snapshot. Null until opened, or after a failure. */
    private static FileChannel vmstat;
    private static final ByteBuffer text = ByteBuffer.allocate(64 * 1024);
    private static volatile boolean belowBackground;
    private static volatile long sampled = System.nanoTime() - SAMPLE_NANOS;

    private KernelDirty() {
    }

    /** True when the system's dirty pages were below the background threshold at most 50 ms ago. */
    public static boolean belowBackground() {
        if (System.nanoTime() - sampled >= SAMPLE_NANOS && SAMPLING.compareAndSet(false, true)) {
            try {
                belowBackground = sample();
                sampled = System.nanoTime();
            } finally {
                SAMPLING.set(false);
            }
        }
        return belowBackground;
    }

    /** Reads /proc/vmstat into {@link #text} (allocating nothing once open) and parses it. */
    private static boolean sample() {
        try {
            if (vmstat == null) {
                vmstat = FileChannel.open(VMSTAT);
            }
            text.clear();
            int n;
            while (text.hasRemaining() && (n = vmstat.read(text, text.position())) > 0) {
                // until the end of the snapshot
            }
            return parse(text.array(), text.position());
        } catch (IOException e) {
            vmstat = null; // closed by an interrupt, or never opened: the next sample tries again
            return false;
        }
    }

    /**
     * nr_dirty + nr_writeback < nr_dirty_background_threshold in the first
     * {@code length} bytes of vmstat's text; false when one of them is missing.
     */
    static boolean parse(byte[] vmstat, int length) {
        long dirty = -1;
        long writeback = -1;
        long background = -1;
        int line = 0;
        while (line < length) {
            int space = line;
            while (space < length && vmstat[space] != ' ' && vmstat[space] != '\n') {
                space++;
            }
            int end = space;
            while (end < length && vmstat[end] != '\n') {
                end++;
            }
            if (space < end) {
                if (is(vmstat, line, space, DIRTY)) {
                    dirty = value(vmstat, space + 1, end);
                } else if (is(vmstat, line, space, WRITEBACK)) {
                    writeback = value(vmstat, space + 1, end);
                } else if (is(vmstat, line, space, BACKGROUND)) {
                    background = value(vmstat, space + 1, end);
                }
            }
            line = end + 1;
        }
        return dirty >= 0 && writeback >= 0 && background >= 0 && dirty + writeback < background;
    }

    private static boolean is(byte[] text, int from, int to, byte[] key) {
        return Arrays.equals(text, from, to, key, 0, key.length);
    }

    /** The decimal number in {@code [from, to)}, or -1 when it is not one. */
    private static long value(byte[] text, int from, int to) {
        if (from >= to) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = text[i] - '0';
            if (d < 0 || d > 9 || v > (Long.MAX_VALUE - d) / 10) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }
}
