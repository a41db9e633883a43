package org.bufcached.daemon.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the system's dirty page cache stands against the kernel's own limits, from
 * /proc/vmstat. A buffered write may sleep in balance_dirty_pages once dirty and
 * under-write-back pages pass the mid-point between the background threshold and
 * the dirty threshold; below the background threshold the kernel throttles no
 * writer. The flushers sample it a few times a second; anything unreadable counts
 * as above.
 *
 * <p>A memory cgroup with a limit has its own, lower thresholds that /proc/vmstat
 * does not show; the daemon's unit sets none.
 */
public final class KernelDirty {
    private static final Path VMSTAT = Path.of("/proc/vmstat");
    private static final long SAMPLE_NANOS = 50_000_000L;

    private static volatile boolean belowBackground = parse(read());
    private static volatile long sampled = System.nanoTime();

    private KernelDirty() {
    }

    /** True when the last sample found the system's dirty pages below the background threshold. */
    public static boolean belowBackground() {
        return belowBackground;
    }

    /** Reads /proc/vmstat again unless another caller did in the last 50 ms. */
    public static void sample() {
        long now = System.nanoTime();
        if (now - sampled < SAMPLE_NANOS) {
            return;
        }
        sampled = now;
        belowBackground = parse(read());
    }

    private static String read() {
        try {
            return Files.readString(VMSTAT);
        } catch (IOException e) {
            return "";
        }
    }

    /** nr_dirty + nr_writeback < nr_dirty_background_threshold, false when one of them is missing. */
    static boolean parse(String vmstat) {
        long dirty = -1;
        long writeback = -1;
        long background = -1;
        for (String line : vmstat.split("\n")) {
            int space = line.indexOf(' ');
            if (space < 0) {
                continue;
            }
            String key = line.substring(0, space);
            switch (key) {
                case "nr_dirty" -> dirty = value(line, space);
                case "nr_writeback" -> writeback = value(line, space);
                case "nr_dirty_background_threshold" -> background = value(line, space);
                default -> { }
            }
        }
        return dirty >= 0 && writeback >= 0 && background >= 0 && dirty + writeback < background;
    }

    private static long value(String line, int space) {
        try {
            return Long.parseLong(line.substring(space + 1).trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
