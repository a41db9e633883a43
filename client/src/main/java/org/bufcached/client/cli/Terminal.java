package org.bufcached.client.cli;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bufcached.client.sys.Libc;

/**
 * Whether standard error is a terminal, and how wide: progress lines are drawn
 * only on a terminal, and cut to its width so they never wrap.
 */
final class Terminal {
    private static final int STDERR = 2;

    private Terminal() {
    }

    /** The columns of the terminal on standard error, or 0 when it is not a terminal. */
    static int stderrColumns() {
        try {
            Libc c = Libc.Holder.get();
            if (c.isatty(STDERR) != 1) {
                return 0;
            }
            byte[] winsize = new byte[8];
            if (c.ioctl(STDERR, Libc.TIOCGWINSZ, winsize) == 0) {
                int columns = ByteBuffer.wrap(winsize).order(ByteOrder.nativeOrder()).getShort(2) & 0xffff;
                if (columns > 0) {
                    return columns;
                }
            }
            return 80;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return 0; // no libc binding: behave as when not on a terminal
        }
    }
}
