package org.bufcached.client.sys;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * The few POSIX calls the JDK does not offer: lseek with SEEK_DATA/SEEK_HOLE (to
 * find holes), and for {@code attach} a plain blocking socket, read/write on it and
 * the nbd ioctls. Loaded on first use.
 */
public interface Libc {
    int SEEK_DATA = 3;
    int SEEK_HOLE = 4;
    int O_RDONLY = 0;
    int O_RDWR = 2;
    int AF_UNIX = 1;
    int AF_INET = 2;
    int SOCK_STREAM = 1;
    int ENXIO = 6;
    /** Terminal window size: struct winsize {unsigned short ws_row, ws_col, ...}. */
    long TIOCGWINSZ = 0x5413;

    @SaveError
    int open(String path, int flags);

    @SaveError
    int close(int fd);

    @SaveError
    long lseek(int fd, long offset, int whence);

    @SaveError
    int ioctl(int fd, long request, long arg);

    /** ioctl with a structure the kernel fills in, such as TIOCGWINSZ's struct winsize. */
    @SaveError
    int ioctl(int fd, long request, @Out byte[] arg);

    int isatty(int fd);

    @SaveError
    int socket(int domain, int type, int protocol);

    @SaveError
    int connect(int fd, @In byte[] address, int length);

    @SaveError
    long read(int fd, @Out byte[] buf, long count);

    @SaveError
    long write(int fd, @In byte[] buf, long count);

    String strerror(int errno);

    /** The loaded library, and the errno of its last call on this thread. */
    final class Holder {
        private static Libc libc;

        private Holder() {
        }

        public static synchronized Libc get() {
            if (libc == null) {
                libc = LibraryLoader.create(Libc.class).load("c");
            }
            return libc;
        }

        public static int errno() {
            return Runtime.getRuntime(get()).getLastError();
        }
    }
}
