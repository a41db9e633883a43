package org.bufcached.daemon.store;

import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The system calls of the fallback I/O engine, each made once and answered the way
 * an io_uring completion is: the call's result, or {@code -errno}. Unlike
 * {@link Posix}, nothing throws and nothing loops over short transfers: the
 * caller sees exactly what the kernel did, as it would from the ring.
 */
public final class Syscalls {
    /** preadv2's flag: answer from the page cache only, never wait for the disk. */
    public static final int RWF_NOWAIT = 0x08;
    public static final int POSIX_FADV_WILLNEED = 3;

    private static final LibC LIBC = Posix.LIBC;
    private static final jnr.ffi.Runtime RUNTIME = Posix.RUNTIME;

    /** One struct iovec per thread, for preadv2. */
    private static final FastThreadLocal<ByteBuffer> IOVEC = new FastThreadLocal<>() {
        @Override
        protected ByteBuffer initialValue() {
            return ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
        }
    };

    /** mincore's answer: one byte per page, for up to {@link #MINCORE_PAGES} pages a call. */
    private static final int MINCORE_PAGES = 256;
    private static final FastThreadLocal<ByteBuffer> MINCORE_VEC = new FastThreadLocal<>() {
        @Override
        protected ByteBuffer initialValue() {
            return ByteBuffer.allocateDirect(MINCORE_PAGES);
        }
    };

    private Syscalls() {
    }

    public static long pwrite(int fd, long address, int length, long offset) {
        long r;
        do {
            r = result(LIBC.pwrite(fd, address, length, offset));
        } while (r == -Errno.EINTR);
        return r;
    }

    public static long pread(int fd, long address, int length, long offset, int rwFlags) {
        long r;
        if (rwFlags == 0) {
            do {
                r = result(LIBC.pread(fd, address, length, offset));
            } while (r == -Errno.EINTR);
            return r;
        }
        ByteBuffer iov = IOVEC.get();
        iov.putLong(0, address).putLong(8, length);
        long iovAddress = PlatformDependent.directBufferAddress(iov);
        do {
            r = result(LIBC.preadv2(fd, iovAddress, 1, offset, rwFlags));
        } while (r == -Errno.EINTR);
        return r;
    }

    public static long fdatasync(int fd) {
        long r;
        do {
            r = result(LIBC.fdatasync(fd));
        } while (r == -Errno.EINTR);
        return r;
    }

    public static long syncFileRange(int fd, long offset, long length, int flags) {
        long r;
        do {
            r = result(LIBC.sync_file_range(fd, offset, length, flags));
        } while (r == -Errno.EINTR);
        return r;
    }

    public static long fallocate(int fd, int mode, long offset, long length) {
        long r;
        do {
            r = result(LIBC.fallocate(fd, mode, offset, length));
        } while (r == -Errno.EINTR);
        return r;
    }

    public static long fadvise(int fd, long offset, long length, int advice) {
        int error = LIBC.posix_fadvise(fd, offset, length, advice);
        return error == 0 ? 0 : -error;
    }

    public static long madvise(long address, long length, int advice) {
        long r;
        do {
            r = result(LIBC.madvise(address, length, advice));
        } while (r == -Errno.EINTR);
        return r;
    }

    /**
     * How many pages from {@code address} (page-aligned, inside a mapping of a file)
     * are in the page cache, counted from the first until one is not; or
     * {@code -errno}. mincore looks the pages up and never reads one in, unlike a
     * read with RWF_NOWAIT: that starts read-ahead for a missing page, and a fast
     * disk may answer it before the read looks again (seen: 8 reads in 1,000 after
     * POSIX_FADV_DONTNEED returned the disk's contents rather than EAGAIN).
     */
    public static long residentPages(long address, long length, int pageShift) {
        long pages = (length + (1L << pageShift) - 1) >>> pageShift;
        ByteBuffer vec = MINCORE_VEC.get();
        long vecAddress = PlatformDependent.directBufferAddress(vec);
        long resident = 0;
        while (resident < pages) {
            int n = (int) Math.min(MINCORE_PAGES, pages - resident);
            long r = result(LIBC.mincore(address + (resident << pageShift), (long) n << pageShift, vecAddress));
            if (r < 0) {
                return r;
            }
            for (int i = 0; i < n; i++) {
                if ((vec.get(i) & 1) == 0) {
                    return resident + i;
                }
            }
            resident += n;
        }
        return resident;
    }

    /** The call's result, or {@code -errno} read at once, before anything else can change it. */
    private static long result(long r) {
        return r >= 0 ? r : -RUNTIME.getLastError();
    }
}
