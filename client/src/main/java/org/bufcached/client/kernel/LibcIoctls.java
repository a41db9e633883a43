package org.bufcached.client.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bufcached.client.sys.Libc;

/** {@link Ioctls} through jnr-ffi, with the errors an operator meets spelled out. */
public final class LibcIoctls implements Ioctls {
    private static final int ENOENT = 2;
    private static final int EACCES = 13;
    private static final int EPERM = 1;
    private static final int ENOTTY = 25;
    private static final int EBUSY = 16;

    @Override
    public int open(String path) throws IOException {
        Libc c = Libc.Holder.get();
        int fd = c.open(path, Libc.O_RDWR);
        if (fd >= 0) {
            return fd;
        }
        int errno = Libc.Holder.errno();
        if (errno == ENOENT) {
            throw new IOException(path + " does not exist" + (Files.exists(Path.of("/sys/module/nbd"))
                    ? "" : ": the nbd kernel module is not loaded (modprobe nbd)"));
        }
        if (errno == EACCES || errno == EPERM) {
            throw new IOException("cannot open " + path + ": permission denied (attach and detach need root)");
        }
        throw new IOException("cannot open " + path + ": " + c.strerror(errno));
    }

    @Override
    public void ioctl(int fd, String name, long request, long arg) throws IOException {
        Libc c = Libc.Holder.get();
        if (c.ioctl(fd, request, arg) >= 0) {
            return;
        }
        int errno = Libc.Holder.errno();
        switch (errno) {
            case ENOTTY:
            case 22: // EINVAL from a block device of another driver
                throw new IOException(name + " failed: not an nbd device (" + c.strerror(errno) + ")");
            case EPERM:
            case EACCES:
                throw new IOException(name + " failed: permission denied (attach and detach need CAP_SYS_ADMIN)");
            case EBUSY:
                throw new IOException(name + " failed: the device is busy (already attached?)");
            default:
                throw new IOException(name + " failed: " + c.strerror(errno));
        }
    }

    @Override
    public void close(int fd) {
        Libc.Holder.get().close(fd);
    }
}
