package org.bufcached.daemon.store;

import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.LongSupplier;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;

/**
 * Typed, checked access to the C library calls of the backing store. Every failed
 * call throws a {@link PosixException} that carries its errno; calls that the
 * kernel interrupts (EINTR) are restarted, and {@code pread}/{@code pwrite} loop
 * over short transfers, so callers never see either.
 *
 * <p>Memory is passed as native addresses: the caller keeps that memory alive
 * (a direct Netty buffer, a mapped window) for the duration of the call.
 *
 * <p>Constants are those of Linux on x86_64 and aarch64, the only supported
 * platforms; they are identical on both for these calls.
 */
public final class Posix {

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 02;
    public static final int O_CREAT = 0100;
    public static final int O_CLOEXEC = 02000000;

    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;

    public static final int SEEK_SET = 0;
    public static final int SEEK_END = 2;
    public static final int SEEK_DATA = 3;
    public static final int SEEK_HOLE = 4;

    public static final int SYNC_FILE_RANGE_WAIT_BEFORE = 1;
    public static final int SYNC_FILE_RANGE_WRITE = 2;
    public static final int SYNC_FILE_RANGE_WAIT_AFTER = 4;

    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;

    public static final int MS_ASYNC = 1;
    public static final int MS_SYNC = 4;

    public static final int MADV_WILLNEED = 3;
    public static final int MADV_DONTNEED = 4;
    /** Since Linux 5.4; EINVAL before. See {@link MemoryAdvice}. */
    public static final int MADV_COLD = 20;
    /** Since Linux 5.4; EINVAL before. */
    public static final int MADV_PAGEOUT = 21;
    /** Since Linux 5.14; EINVAL before. See {@link MemoryAdvice}. */
    public static final int MADV_POPULATE_READ = 22;
    /** Since Linux 5.14; EINVAL before. See {@link MemoryAdvice}. */
    public static final int MADV_POPULATE_WRITE = 23;

    static final LibC LIBC = LibraryLoader.create(LibC.class)
            .load(Platform.getNativePlatform().getStandardCLibraryName());
    static final jnr.ffi.Runtime RUNTIME = jnr.ffi.Runtime.getRuntime(LIBC);
    private static final int PAGE_SIZE = LIBC.getpagesize();
    /** The encoding the JDK itself uses for file names in system calls. */
    private static final Charset FILE_NAME_ENCODING =
            Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
    /** {@code (void *) -1}, what mmap returns on failure. */
    private static final long MAP_FAILED = -1L;

    private Posix() {
    }

    /** Opens {@code path}; returns the file descriptor. */
    public static int open(Path path, int flags, int mode) throws PosixException {
        byte[] name = path.toString().getBytes(FILE_NAME_ENCODING);
        byte[] cName = Arrays.copyOf(name, name.length + 1);
        long fd = restarting(() -> LIBC.open(cName, flags, mode));
        if (fd < 0) {
            throw failure("open", "%s, flags=0%o", path, flags);
        }
        return (int) fd;
    }

    /**
     * Closes {@code fd}. Not restarted on EINTR: Linux has released the descriptor
     * by then, and a second close could close a descriptor another thread just got.
     */
    public static void close(int fd) throws PosixException {
        if (LIBC.close(fd) < 0) {
            throw failure("close", "fd=%d", fd);
        }
    }

    /**
     * Reads {@code count} bytes at file {@code offset} into native memory at
     * {@code address}. Returns the bytes read, fewer than {@code count} only when
     * the file ends first.
     */
    public static long pread(int fd, long address, long count, long offset) throws PosixException {
        long done = 0;
        while (done < count) {
            long n = LIBC.pread(fd, address + done, count - done, offset + done);
            if (n > 0) {
                done += n;
            } else if (n == 0) {
                break;
            } else if (errno() != Errno.EINTR) {
                throw failure("pread", "fd=%d, count=%d, offset=%d", fd, count - done, offset + done);
            }
        }
        return done;
    }

    /** Writes {@code count} bytes from native memory at {@code address} at file {@code offset}. */
    public static void pwrite(int fd, long address, long count, long offset) throws PosixException {
        long done = 0;
        while (done < count) {
            long n = LIBC.pwrite(fd, address + done, count - done, offset + done);
            if (n > 0) {
                done += n;
            } else if (n == 0) {
                // No progress and no errno: report an I/O error rather than spin.
                throw new PosixException("pwrite", Errno.EIO,
                        String.format("fd=%d, count=%d, offset=%d: wrote nothing", fd, count - done, offset + done));
            } else if (errno() != Errno.EINTR) {
                throw failure("pwrite", "fd=%d, count=%d, offset=%d", fd, count - done, offset + done);
            }
        }
    }

    /** Sets the file's size, growing it sparsely or cutting it. */
    public static void ftruncate(int fd, long length) throws PosixException {
        if (restarting(() -> LIBC.ftruncate(fd, length)) < 0) {
            throw failure("ftruncate", "fd=%d, length=%d", fd, length);
        }
    }

    /** Allocates, punches or zeroes a range, by the {@code FALLOC_FL_*} bits of {@code mode}. */
    public static void fallocate(int fd, int mode, long offset, long length) throws PosixException {
        if (restarting(() -> LIBC.fallocate(fd, mode, offset, length)) < 0) {
            throw failure("fallocate", "fd=%d, mode=0x%x, offset=%d, length=%d", fd, mode, offset, length);
        }
    }

    /** Makes the file's data, and the metadata needed to read it back, durable. */
    public static void fdatasync(int fd) throws PosixException {
        if (restarting(() -> LIBC.fdatasync(fd)) < 0) {
            throw failure("fdatasync", "fd=%d", fd);
        }
    }

    /** Makes the file's data and all its metadata durable. */
    public static void fsync(int fd) throws PosixException {
        if (restarting(() -> LIBC.fsync(fd)) < 0) {
            throw failure("fsync", "fd=%d", fd);
        }
    }

    /** Repositions the file offset; returns the resulting offset. */
    public static long lseek(int fd, long offset, int whence) throws PosixException {
        long result = LIBC.lseek(fd, offset, whence);
        if (result < 0) {
            throw failure("lseek", "fd=%d, offset=%d, whence=%d", fd, offset, whence);
        }
        return result;
    }

    /** The start of the first data at or after {@code offset}, or -1 when no data follows (ENXIO). */
    public static long seekData(int fd, long offset) throws PosixException {
        return seekOrEnd(fd, offset, SEEK_DATA);
    }

    /**
     * The start of the first hole at or after {@code offset}, or -1 when
     * {@code offset} is at or past the end of the file (ENXIO). The end of the file
     * counts as a hole.
     */
    public static long seekHole(int fd, long offset) throws PosixException {
        return seekOrEnd(fd, offset, SEEK_HOLE);
    }

    private static long seekOrEnd(int fd, long offset, int whence) throws PosixException {
        long result = LIBC.lseek(fd, offset, whence);
        if (result < 0) {
            int errno = errno();
            if (errno == Errno.ENXIO) {
                return -1;
            }
            throw new PosixException("lseek", errno, String.format("fd=%d, offset=%d, whence=%d", fd, offset, whence));
        }
        return result;
    }

    /** Starts and/or waits for write-back of a file range, by the {@code SYNC_FILE_RANGE_*} bits. */
    public static void syncFileRange(int fd, long offset, long length, int flags) throws PosixException {
        if (restarting(() -> LIBC.sync_file_range(fd, offset, length, flags)) < 0) {
            throw failure("sync_file_range", "fd=%d, offset=%d, length=%d, flags=%d", fd, offset, length, flags);
        }
    }

    /** Maps {@code length} bytes of {@code fd} from {@code offset}, anywhere; returns the address. */
    public static long mmap(long length, int prot, int flags, int fd, long offset) throws PosixException {
        long address = LIBC.mmap(null, length, prot, flags, fd, offset);
        if (address == MAP_FAILED) {
            throw failure("mmap", "length=%d, prot=%d, flags=0x%x, fd=%d, offset=%d", length, prot, flags, fd, offset);
        }
        return address;
    }

    /** Removes the mapping of {@code [address, address + length)}. */
    public static void munmap(long address, long length) throws PosixException {
        if (LIBC.munmap(address, length) < 0) {
            throw failure("munmap", "address=0x%x, length=%d", address, length);
        }
    }

    /** Gives the kernel {@code advice} ({@code MADV_*}) about a page-aligned range. */
    public static void madvise(long address, long length, int advice) throws PosixException {
        if (restarting(() -> LIBC.madvise(address, length, advice)) < 0) {
            throw failure("madvise", "address=0x%x, length=%d, advice=%d", address, length, advice);
        }
    }

    /** Writes back a page-aligned range of a shared mapping, by the {@code MS_*} bits of {@code flags}. */
    public static void msync(long address, long length, int flags) throws PosixException {
        if (LIBC.msync(address, length, flags) < 0) {
            throw failure("msync", "address=0x%x, length=%d, flags=%d", address, length, flags);
        }
    }

    /** The size of a memory page in bytes. */
    public static int pageSize() {
        return PAGE_SIZE;
    }

    /** The id of this process. */
    public static int getpid() {
        return LIBC.getpid();
    }

    /** The errno that the last call on this thread left. */
    private static int errno() {
        return RUNTIME.getLastError();
    }

    /** Runs {@code call} until it does not fail with EINTR; returns its last result. */
    private static long restarting(LongSupplier call) {
        long result;
        do {
            result = call.getAsLong();
        } while (result < 0 && errno() == Errno.EINTR);
        return result;
    }

    private static PosixException failure(String call, String contextFormat, Object... args) {
        return new PosixException(call, errno(), String.format(contextFormat, args));
    }
}
