package org.bufcached.daemon.store;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One open backing file of an export, and the I/O the export does on it: positioned
 * reads and writes, hole punching and zeroing for TRIM and WRITE_ZEROES, durability
 * for FLUSH and FUA, and allocation status for BLOCK_STATUS. Calls may come from
 * any thread at once; they block, so they belong on I/O workers.
 *
 * <p>After {@link #close()} every call fails with EBADF: the descriptor number is
 * forgotten, so a call can never reach a file that reused it.
 */
public final class BackingFile implements AutoCloseable {

    private static final int FILE_MODE = 0644;
    /** {@link #extents} marks a range that holds data. */
    public static final int DATA = 0;
    /** {@link #extents} marks a hole: it reads as zeroes and takes no space. */
    public static final int HOLE = 1;
    private static final int CLOSED = -1;
    private static final int INITIAL_EXTENTS = 16;

    private final Path path;
    private final boolean readOnly;
    private final AtomicInteger fd;
    /** Opened on demand by {@link #openDescription}; closed with the file. */
    private final java.util.List<AtomicInteger> descriptions = new java.util.concurrent.CopyOnWriteArrayList<>();

    private BackingFile(Path path, boolean readOnly, int fd) {
        this.path = path;
        this.readOnly = readOnly;
        this.fd = new AtomicInteger(fd);
    }

    /**
     * Another open file description of this very file (through /proc/self/fd, so
     * it cannot be a different file that took the path since), with its own
     * write-back error cursor: Linux reports each write-back error once to every
     * open file description, so a separate one for the flushers and one for
     * FLUSH means an error taken by one is still seen by the other. Closed with
     * this file.
     */
    public int openDescription() throws PosixException {
        int flags = (readOnly ? Posix.O_RDONLY : Posix.O_RDWR) | Posix.O_CLOEXEC;
        int other = Posix.open(Path.of("/proc/self/fd/" + fd()), flags, 0);
        descriptions.add(new AtomicInteger(other));
        return other;
    }

    /**
     * "device:inode" of the open file, as the kernel sees it through
     * /proc/self/fd; the same for the file the path names while it is this one.
     */
    public String identity() {
        return identityOf(Path.of("/proc/self/fd/" + fd()));
    }

    /** "device:inode" of the file {@link #path()} names now, or "" when it names none. */
    public String pathIdentity() {
        return identityOf(path);
    }

    private static String identityOf(Path p) {
        try {
            java.util.Map<String, Object> a = java.nio.file.Files.readAttributes(p, "unix:dev,ino");
            return a.get("dev") + ":" + a.get("ino");
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return "";
        }
    }

    /** Opens an existing file, read-only or for reading and writing. */
    public static BackingFile open(Path path, boolean readOnly) throws PosixException {
        int flags = (readOnly ? Posix.O_RDONLY : Posix.O_RDWR) | Posix.O_CLOEXEC;
        return new BackingFile(path, readOnly, Posix.open(path, flags, 0));
    }

    /**
     * Opens a file for reading and writing, creating it if it is missing, and
     * {@linkplain #extendTo extends} it to at least {@code size} bytes. A new file
     * is sparse; an existing larger file keeps its size.
     */
    public static BackingFile openOrCreate(Path path, long size) throws PosixException {
        BackingFile file = new BackingFile(path, false,
                Posix.open(path, Posix.O_RDWR | Posix.O_CREAT | Posix.O_CLOEXEC, FILE_MODE));
        try {
            file.extendTo(size);
            return file;
        } catch (PosixException e) {
            file.closeQuietly(e);
            throw e;
        }
    }

    /** Grows the file to {@code size} bytes, sparsely; never shrinks it. */
    public void extendTo(long size) throws PosixException {
        if (size() < size) {
            Posix.ftruncate(fd(), size);
        }
    }

    /** Sets the file's size to {@code size} bytes, cutting off what lies beyond. */
    public void truncate(long size) throws PosixException {
        Posix.ftruncate(fd(), size);
    }

    /** The file's current size in bytes. */
    public long size() throws PosixException {
        return Posix.lseek(fd(), 0, Posix.SEEK_END);
    }

    public Path path() {
        return path;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** The file descriptor, or -1 once closed. */
    public int fd() {
        return fd.get();
    }

    /**
     * Reads {@code length} bytes at {@code offset} into native memory at
     * {@code address}. Returns the bytes read, fewer only where the file ends.
     */
    public int pread(long address, int length, long offset) throws PosixException {
        return (int) Posix.pread(fd(), address, length, offset);
    }

    /** Writes {@code length} bytes from native memory at {@code address} at {@code offset}. */
    public void pwrite(long address, int length, long offset) throws PosixException {
        Posix.pwrite(fd(), address, length, offset);
    }

    /** Deallocates the range (TRIM); it reads back as zeroes and the size stays. */
    public void punchHole(long offset, long length) throws PosixException {
        Posix.fallocate(fd(), Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, offset, length);
    }

    /**
     * Makes the range read back as zeroes and keeps it allocated (WRITE_ZEROES with
     * NO_HOLE), without writing the zeroes; the size stays. Throws a
     * {@link PosixException} with EOPNOTSUPP where the filesystem cannot.
     */
    public void zeroRange(long offset, long length) throws PosixException {
        Posix.fallocate(fd(), Posix.FALLOC_FL_ZERO_RANGE | Posix.FALLOC_FL_KEEP_SIZE, offset, length);
    }

    /**
     * Allocates disk space for the range, so that writes into it cannot fail with
     * ENOSPC; grows the file if the range reaches past its end.
     */
    public void allocate(long offset, long length) throws PosixException {
        Posix.fallocate(fd(), 0, offset, length);
    }

    /** Makes every completed write durable (FLUSH): the data, and the metadata needed to read it. */
    public void fdatasync() throws PosixException {
        Posix.fdatasync(fd());
    }

    /**
     * Writes the range's dirty pages to the device and waits for them, including
     * write-back that was already running. It does not flush metadata (block
     * allocation, size) nor the device's write cache, so it does not make the range
     * durable: a FLUSH still needs {@link #fdatasync()}.
     */
    public void syncRange(long offset, long length) throws PosixException {
        Posix.syncFileRange(fd(), offset, length, Posix.SYNC_FILE_RANGE_WAIT_BEFORE
                | Posix.SYNC_FILE_RANGE_WRITE | Posix.SYNC_FILE_RANGE_WAIT_AFTER);
    }

    /** Where the first data at or after {@code offset} starts, or the file's size if none follows. */
    public long nextData(long offset) throws PosixException {
        long data = Posix.seekData(fd(), offset);
        return data < 0 ? size() : data;
    }

    /** Where the first hole at or after {@code offset} starts; the end of the file counts as one. */
    public long nextHole(long offset) throws PosixException {
        long hole = Posix.seekHole(fd(), offset);
        return hole < 0 ? size() : hole;
    }

    /**
     * The allocation status of {@code [offset, offset + length)}, for BLOCK_STATUS
     * {@code base:allocation}: pairs of (length, flags), holes flagged
     * {@link #HOLE} and data {@link #DATA}, consecutive from
     * {@code offset}, at most {@code maxExtents} of them. They end at the end of the
     * range or of the file, whichever comes first, or earlier when
     * {@code maxExtents} runs out; there are none when {@code offset} is at or past
     * the end of the file.
     */
    public long[] extents(long offset, long length, int maxExtents) throws PosixException {
        int fd = fd();
        long size = size();
        long end = length > size - offset ? size : offset + length;
        long[] extents = new long[2 * Math.min(maxExtents, INITIAL_EXTENTS)];
        int count = 0;
        long position = offset;
        while (position < end && count < maxExtents) {
            long data = Posix.seekData(fd, position);
            boolean hole = data < 0 || data > position;
            long next = hole ? data : Posix.seekHole(fd, position);
            if (next == position) {
                continue; // the data was punched between the two seeks: look again
            }
            long extentEnd = next < 0 ? end : Math.min(next, end); // < 0: nothing more before the end
            if (2 * count == extents.length) {
                extents = Arrays.copyOf(extents, 2 * extents.length);
            }
            extents[2 * count] = extentEnd - position;
            extents[2 * count + 1] = hole ? HOLE : DATA;
            count++;
            position = extentEnd;
        }
        return Arrays.copyOf(extents, 2 * count);
    }

    /** Closes the file; calls after this one fail with EBADF. Closing twice does nothing. */
    @Override
    public void close() throws PosixException {
        PosixException first = null;
        for (AtomicInteger d : descriptions) {
            int closing = d.getAndSet(CLOSED);
            if (closing != CLOSED) {
                try {
                    Posix.close(closing);
                } catch (PosixException e) {
                    first = first == null ? e : first;
                }
            }
        }
        int closing = fd.getAndSet(CLOSED);
        if (closing != CLOSED) {
            Posix.close(closing);
        }
        if (first != null) {
            throw first;
        }
    }

    private void closeQuietly(Exception cause) {
        try {
            close();
        } catch (PosixException e) {
            cause.addSuppressed(e);
        }
    }

    @Override
    public String toString() {
        return "BackingFile[" + path + (readOnly ? ", read-only" : "") + ", fd=" + fd() + "]";
    }
}
