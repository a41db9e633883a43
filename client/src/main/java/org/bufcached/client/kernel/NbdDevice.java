package org.bufcached.client.kernel;

import java.io.IOException;
import org.bufcached.client.ExportInfo;

/**
 * The kernel's nbd driver, driven the way nbd-client drives it: size and flags
 * from the user-space handshake, the socket handed over with NBD_SET_SOCK, then
 * NBD_DO_IT on a thread of its own, which blocks for as long as the device is
 * attached. Request numbers are those of linux/nbd.h ({@code _IO(0xab, n)}).
 */
public final class NbdDevice implements AutoCloseable {
    static final long NBD_SET_SOCK = io(0);
    static final long NBD_SET_BLKSIZE = io(1);
    static final long NBD_SET_SIZE = io(2);
    static final long NBD_DO_IT = io(3);
    static final long NBD_CLEAR_SOCK = io(4);
    static final long NBD_CLEAR_QUE = io(5);
    static final long NBD_DISCONNECT = io(8);
    static final long NBD_SET_TIMEOUT = io(9);
    static final long NBD_SET_FLAGS = io(10);

    private final Ioctls sys;
    private final String path;
    private final int fd;

    private NbdDevice(Ioctls sys, String path, int fd) {
        this.sys = sys;
        this.path = path;
        this.fd = fd;
    }

    /** {@code _IO(type, nr)}: no direction, no size. */
    private static long io(int nr) {
        return (0xabL << 8) | nr;
    }

    public static NbdDevice open(Ioctls sys, String path) throws IOException {
        return new NbdDevice(sys, path, sys.open(path));
    }

    /**
     * Configures the device for the export and hands over {@code socketFd}. The block
     * size is the export's minimum raised to 512 and capped at 4096, what the
     * driver accepts.
     */
    public void configure(ExportInfo info, int socketFd, int timeoutSeconds) throws IOException {
        long blockSize = Math.min(4096, Math.max(512, info.minimumBlock()));
        sys.ioctl(fd, "NBD_SET_BLKSIZE", NBD_SET_BLKSIZE, blockSize);
        sys.ioctl(fd, "NBD_SET_SIZE", NBD_SET_SIZE, info.size() - info.size() % blockSize);
        sys.ioctl(fd, "NBD_CLEAR_SOCK", NBD_CLEAR_SOCK, 0);
        sys.ioctl(fd, "NBD_SET_FLAGS", NBD_SET_FLAGS, info.transmissionFlags());
        sys.ioctl(fd, "NBD_SET_SOCK", NBD_SET_SOCK, socketFd);
        if (timeoutSeconds > 0) {
            sys.ioctl(fd, "NBD_SET_TIMEOUT", NBD_SET_TIMEOUT, timeoutSeconds);
        }
    }

    /**
     * Starts NBD_DO_IT on a background thread that holds the socket; the thread
     * clears the queue and the socket when the device is disconnected.
     */
    public Thread serve(java.util.function.Consumer<IOException> onExit) {
        Thread t = new Thread(() -> {
            IOException error = null;
            try {
                sys.ioctl(fd, "NBD_DO_IT", NBD_DO_IT, 0);
            } catch (IOException e) {
                error = e;
            }
            try {
                sys.ioctl(fd, "NBD_CLEAR_QUE", NBD_CLEAR_QUE, 0);
                sys.ioctl(fd, "NBD_CLEAR_SOCK", NBD_CLEAR_SOCK, 0);
            } catch (IOException e) {
                error = error == null ? e : error;
            }
            onExit.accept(error);
        }, "nbd-do-it " + path);
        t.start();
        return t;
    }

    /** Asks the driver to disconnect the device (what {@code nbd-client -d} does). */
    public void disconnect() throws IOException {
        sys.ioctl(fd, "NBD_DISCONNECT", NBD_DISCONNECT, 0);
        sys.ioctl(fd, "NBD_CLEAR_SOCK", NBD_CLEAR_SOCK, 0);
    }

    @Override
    public void close() {
        sys.close(fd);
    }
}
