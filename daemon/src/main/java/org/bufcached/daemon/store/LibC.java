package org.bufcached.daemon.store;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.SaveError;

/**
 * The C library calls the backing store needs, bound by jnr-ffi. Use {@link Posix}
 * instead: it checks every result and turns failures into {@link PosixException}s.
 * This interface is public only because jnr-ffi generates its implementation in
 * another class loader.
 *
 * <p>Only 64-bit Linux (x86_64, aarch64) is supported, so {@code size_t},
 * {@code ssize_t}, {@code off_t} and pointers are all Java {@code long}s, and a
 * native address is passed as a {@code long}.
 */
public interface LibC {

    /** {@code path} is NUL-terminated, in the file-name encoding. */
    @SaveError
    int open(@In byte[] path, int flags, int mode);

    @SaveError
    int close(int fd);

    @SaveError
    long pread(int fd, long buf, long count, long offset);

    @SaveError
    long pwrite(int fd, long buf, long count, long offset);

    /** {@code iov} is the address of {@code iovcnt} struct iovec. */
    @SaveError
    long preadv2(int fd, long iov, int iovcnt, long offset, int flags);

    /** Returns the error number itself (0 on success); errno is not set. */
    @IgnoreError
    int posix_fadvise(int fd, long offset, long len, int advice);

    @SaveError
    int ftruncate(int fd, long length);

    @SaveError
    int fallocate(int fd, int mode, long offset, long length);

    @SaveError
    int fdatasync(int fd);

    @SaveError
    int fsync(int fd);

    @SaveError
    long lseek(int fd, long offset, int whence);

    @SaveError
    int sync_file_range(int fd, long offset, long nbytes, int flags);

    /**
     * {@code addr} is a {@link Pointer} (always null here) rather than a
     * {@code long}: with six primitive arguments jnr-ffi takes its fast path, which
     * corrupts the sixth argument, the offset (jnr/jnr-ffi#181).
     */
    @SaveError
    long mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

    @SaveError
    int munmap(long addr, long length);

    @SaveError
    int madvise(long addr, long length, int advice);

    @SaveError
    int msync(long addr, long length, int flags);

    /** {@code vec} is the address of one byte per page of the range; bit 0 says the page is in memory. */
    @SaveError
    int mincore(long addr, long length, long vec);

    @IgnoreError
    int getpagesize();

    @IgnoreError
    int getpid();
}
