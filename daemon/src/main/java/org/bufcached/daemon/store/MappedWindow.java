package org.bufcached.daemon.store;

import com.kenai.jffi.MemoryIO;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@code MAP_SHARED} mapping of {@code [fileOffset, fileOffset + length)} of a
 * {@link BackingFile}: the memory that buffers of the buffer cache point into.
 * Shared with the page cache, so what is written here is what {@code pread} sees,
 * and the kernel writes it back. Read-only files are mapped {@code PROT_READ}.
 *
 * <p>This is the mapping primitive only; which windows exist, and when one may go,
 * is the window manager's business. The one rule that keeps the JVM alive: once
 * {@link #unmap()} has run, any touch of the window's memory crashes the process.
 * The same goes for a file cut short under a live window: touching a page past
 * the new end of the file raises SIGBUS.
 */
public final class MappedWindow {

    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    private final BackingFile file;
    private final long fileOffset;
    private final long length;
    private final long address;
    private final AtomicBoolean mapped = new AtomicBoolean(true);

    private MappedWindow(BackingFile file, long fileOffset, long length, long address) {
        this.file = file;
        this.fileOffset = fileOffset;
        this.length = length;
        this.address = address;
    }

    /**
     * Maps {@code length} bytes of {@code file} from {@code fileOffset}. Both must
     * be multiples of the page size, and the window must lie inside the file (up to
     * its last, partial page), so that no page of it starts past the end of the file.
     */
    public static MappedWindow map(BackingFile file, long fileOffset, long length) throws PosixException {
        int pageSize = Posix.pageSize();
        if (length <= 0 || length % pageSize != 0 || fileOffset < 0 || fileOffset % pageSize != 0) {
            throw new IllegalArgumentException("window [" + fileOffset + ", +" + length
                    + ") is not page-aligned (page size " + pageSize + ")");
        }
        long fileSize = file.size();
        if (fileOffset + length - pageSize >= fileSize) {
            throw new IllegalArgumentException("window [" + fileOffset + ", +" + length
                    + ") reaches past the end of " + file.path() + " (" + fileSize + " bytes)");
        }
        int prot = file.readOnly() ? Posix.PROT_READ : Posix.PROT_READ | Posix.PROT_WRITE;
        long address = Posix.mmap(length, prot, Posix.MAP_SHARED, file.fd(), fileOffset);
        return new MappedWindow(file, fileOffset, length, address);
    }

    /** The address of the window's first byte. */
    public long address() {
        return address;
    }

    public long length() {
        return length;
    }

    /** Where the window starts in the file. */
    public long fileOffset() {
        return fileOffset;
    }

    public BackingFile file() {
        return file;
    }

    public boolean readOnly() {
        return file.readOnly();
    }

    /** Whether {@link #unmap()} has not run yet. */
    public boolean isMapped() {
        return mapped.get();
    }

    /**
     * The window's memory at {@code [offsetInWindow, offsetInWindow + length)} as a
     * Netty buffer, without a copy; read-only for a read-only file. Releasing the
     * buffer frees nothing: the mapping outlives it only as long as the caller
     * holds the reference (a held buffer of the cache) that keeps the window mapped.
     */
    public ByteBuf byteBuf(long offsetInWindow, int length) {
        ByteBuffer memory = byteBuffer(offsetInWindow, length);
        return Unpooled.wrappedBuffer(readOnly() ? memory.asReadOnlyBuffer() : memory);
    }

    /**
     * The window's memory at {@code [offsetInWindow, offsetInWindow + length)} as a
     * direct {@link ByteBuffer}, without a copy, for code that wraps it itself and
     * only reads through it (Netty refuses read-only buffers where it wraps memory
     * for a socket). On a read-only file the pages are mapped PROT_READ: a write
     * through this buffer would crash the JVM. The same rules as {@link #byteBuf}
     * apply.
     */
    public ByteBuffer byteBuffer(long offsetInWindow, int length) {
        checkRange(offsetInWindow, length);
        return MEMORY.newDirectByteBuffer(address + offsetInWindow, length);
    }

    /** Starts reading the range's pages in the background (read-ahead, CACHE). */
    public void willNeed(long offsetInWindow, long length) throws PosixException {
        onPages(offsetInWindow, length, (start, span) -> Posix.madvise(start, span, Posix.MADV_WILLNEED));
    }

    /** Drops the range's pages from this mapping; the file's data stays in the page cache. */
    public void dontNeed(long offsetInWindow, long length) throws PosixException {
        onPages(offsetInWindow, length, (start, span) -> Posix.madvise(start, span, Posix.MADV_DONTNEED));
    }

    /** Lets the range's pages age first ({@code vfs_vmio_release}); see {@link MemoryAdvice#cold}. */
    public void cold(long offsetInWindow, long length) throws PosixException {
        onPages(offsetInWindow, length, MemoryAdvice.ofKernel()::cold);
    }

    /** Faults the range in for reading; blocks on I/O. See {@link MemoryAdvice#populateRead}. */
    public void populateRead(long offsetInWindow, long length) throws PosixException {
        onPages(offsetInWindow, length, MemoryAdvice.ofKernel()::populateRead);
    }

    /** Faults the range in for writing; blocks on I/O. See {@link MemoryAdvice#populateWrite}. */
    public void populateWrite(long offsetInWindow, long length) throws PosixException {
        if (readOnly()) {
            throw new IllegalStateException("window of read-only " + file.path() + " cannot be written");
        }
        onPages(offsetInWindow, length, MemoryAdvice.ofKernel()::populateWrite);
    }

    /**
     * Writes the range back and waits for it ({@code msync(MS_SYNC)}). On Linux this
     * is an fdatasync of that range of the file: the data is durable on return.
     */
    public void syncRange(long offsetInWindow, long length) throws PosixException {
        onPages(offsetInWindow, length, (start, span) -> Posix.msync(start, span, Posix.MS_SYNC));
    }

    /**
     * Removes the mapping; later calls do nothing. For the window manager alone,
     * once no buffer refers to the window and every worker thread has passed a
     * quiescent point: after this, touching the window's memory, through a
     * {@link #byteBuf} or an address, crashes the JVM.
     */
    public void unmap() throws PosixException {
        if (mapped.compareAndSet(true, false)) {
            Posix.munmap(address, length);
        }
    }

    /** A call on a page-aligned range of memory, as madvise and msync want it. */
    @FunctionalInterface
    private interface PageRangeCall {
        void apply(long address, long length) throws PosixException;
    }

    /** Runs {@code call} on the pages that cover {@code [offsetInWindow, offsetInWindow + length)}. */
    private void onPages(long offsetInWindow, long length, PageRangeCall call) throws PosixException {
        checkRange(offsetInWindow, length);
        long pageStart = offsetInWindow - offsetInWindow % Posix.pageSize();
        call.apply(address + pageStart, offsetInWindow + length - pageStart);
    }

    private void checkRange(long offsetInWindow, long length) {
        if (!mapped.get()) {
            throw new IllegalStateException("window [" + fileOffset + ", +" + this.length + ") of "
                    + file.path() + " is unmapped");
        }
        if (offsetInWindow < 0 || length < 0 || length > this.length - offsetInWindow) {
            throw new IndexOutOfBoundsException("range [" + offsetInWindow + ", +" + length
                    + ") is outside the window's " + this.length + " bytes");
        }
    }

    @Override
    public String toString() {
        return "MappedWindow[" + file.path() + " [" + fileOffset + ", +" + length + ")"
                + (isMapped() ? "" : ", unmapped") + "]";
    }
}
