package org.bufcached.client.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-line progress bar with throughput on stderr, only when stderr is a
 * terminal: redrawn five times a second by a daemon thread, cleared at the end.
 */
final class Progress implements AutoCloseable {
    private final AtomicLong done = new AtomicLong();
    private final long total;
    private final long start = System.nanoTime();
    private final PrintStream out;
    private final Thread painter;

    private Progress(long total, PrintStream out) {
        this.total = total;
        this.out = out;
        if (out == null) {
            painter = null;
            return;
        }
        painter = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    paint();
                    Thread.sleep(200);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "progress");
        painter.setDaemon(true);
        painter.start();
    }

    /** A bar on stderr if the process has a terminal, else a silent counter. */
    static Progress start(long total) {
        return new Progress(total, System.console() != null ? System.err : null);
    }

    void add(long bytes) {
        done.addAndGet(bytes);
    }

    long elapsedNanos() {
        return System.nanoTime() - start;
    }

    private void paint() {
        long d = done.get();
        double secs = Math.max(1e-9, elapsedNanos() / 1e9);
        int width = 30;
        int filled = total == 0 ? width : (int) (width * d / total);
        out.printf(Locale.ROOT, "\r[%s%s] %3d%% %s / %s  %s/s ", "#".repeat(filled), ".".repeat(width - filled),
                total == 0 ? 100 : 100 * d / total, Sizes.format(d), Sizes.format(total), Sizes.format(d / secs));
        out.flush();
    }

    @Override
    public void close() {
        if (painter != null) {
            painter.interrupt();
            paint();
            out.println();
        }
    }
}
