package org.bufcached.client.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-line progress display on stderr: phase, percentage, a bar, bytes done,
 * rate and time left, redrawn five times a second by a daemon thread and cut to
 * the terminal's width; nothing at all when stderr is not a terminal (or with
 * {@code -q}). The line is erased when the phase ends, so what follows starts
 * on a clean line.
 */
final class Progress implements AutoCloseable {
    private static final long REDRAW_MILLIS = 200;

    private final String phase;
    private final AtomicLong done = new AtomicLong();
    private final long total;
    private final long start = System.nanoTime();
    private final int columns;
    private final PrintStream out;
    private final Thread painter;

    private Progress(String phase, long total, int columns, PrintStream out) {
        this.phase = phase;
        this.total = total;
        this.columns = columns;
        this.out = out;
        if (columns <= 0) {
            painter = null;
            return;
        }
        painter = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    paint();
                    Thread.sleep(REDRAW_MILLIS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "progress");
        painter.setDaemon(true);
        painter.start();
    }

    /** A phase of {@code total} bytes, drawn on stderr when it is a terminal and {@code quiet} is false. */
    static Progress start(String phase, long total, boolean quiet) {
        return new Progress(phase, total, quiet ? 0 : Terminal.stderrColumns(), System.err);
    }

    void add(long bytes) {
        done.addAndGet(bytes);
    }

    long done() {
        return done.get();
    }

    long elapsedNanos() {
        return System.nanoTime() - start;
    }

    private synchronized void paint() {
        out.print("\r" + line(phase, done.get(), total, elapsedNanos(), columns));
        out.flush();
    }

    /**
     * The progress line, at most {@code columns - 1} characters so the cursor never
     * wraps: {@code copy  45% [#####.....] 1.8 GiB / 4 GiB  512 MiB/s  ETA 0:04}.
     * The bar takes what room is left, and goes first when there is none.
     */
    static String line(String phase, long done, long total, long elapsedNanos, int columns) {
        double seconds = Math.max(1e-9, elapsedNanos / 1e9);
        double rate = done / seconds;
        int percent = total == 0 ? 100 : (int) (100 * done / total);
        String head = String.format(Locale.ROOT, "%-6s %3d%% ", phase, percent);
        String tail = String.format(Locale.ROOT, " %s / %s  %s/s  ETA %s", Sizes.format(done), Sizes.format(total),
                Sizes.format(rate), eta(done, total, rate));
        int room = columns - 1 - head.length() - tail.length() - 2;
        String bar = "";
        if (room >= 10) {
            int width = Math.min(room, 40);
            int filled = total == 0 ? width : (int) (width * done / total);
            bar = "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
        }
        String text = head + bar + tail;
        return text.length() <= columns - 1 ? text : text.substring(0, Math.max(0, columns - 1));
    }

    private static String eta(long done, long total, double rate) {
        if (done >= total) {
            return "0:00";
        }
        if (rate <= 0) {
            return "-:--";
        }
        long left = (long) Math.ceil((total - done) / rate);
        return left >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", left / 3600, left / 60 % 60, left % 60)
                : String.format(Locale.ROOT, "%d:%02d", left / 60, left % 60);
    }

    /** Stops redrawing and erases the line. */
    @Override
    public void close() {
        if (painter != null) {
            painter.interrupt();
            try {
                painter.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (this) {
                out.print("\r" + " ".repeat(Math.max(0, columns - 1)) + "\r");
                out.flush();
            }
        }
    }
}
