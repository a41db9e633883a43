package org.bufcached.daemon.store;

import com.kenai.jffi.MemoryIO;

/**
 * The madvise hints that the buffer cache relies on but that old kernels lack:
 * {@code MADV_POPULATE_READ/WRITE} (Linux 5.14) to page a range in on an I/O
 * worker so that an event loop never faults on a cold page, and
 * {@code MADV_COLD} (Linux 5.4) to age the pages of a recycled buffer. Which ones
 * the running kernel has is probed once, on an anonymous page; where one is
 * missing, the hint falls back to what user space can do itself.
 *
 * <p>Ranges must be page-aligned and mapped, and must stay mapped for the call.
 */
public final class MemoryAdvice {

    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    /** Where the fallback's page touches go, so that the JIT cannot drop them. */
    @SuppressWarnings("unused")
    private static volatile byte touchSink;

    private final boolean populateSupported;
    private final boolean coldSupported;

    /** Uses the hints exactly as given: {@code false} forces a fallback even where the kernel has the hint. */
    MemoryAdvice(boolean populateSupported, boolean coldSupported) {
        this.populateSupported = populateSupported;
        this.coldSupported = coldSupported;
    }

    /** The hints of the running kernel, probed on first use. */
    public static MemoryAdvice ofKernel() {
        return KernelProbe.ADVICE;
    }

    /** Whether {@code MADV_POPULATE_READ} and {@code MADV_POPULATE_WRITE} are used, rather than the fallback. */
    public boolean populateSupported() {
        return populateSupported;
    }

    /** Whether {@code MADV_COLD} is used, rather than nothing. */
    public boolean coldSupported() {
        return coldSupported;
    }

    /**
     * Faults the range in for reading, on the calling thread. Without
     * {@code MADV_POPULATE_READ}, reads one byte of each page.
     */
    public void populateRead(long address, long length) throws PosixException {
        if (populateSupported) {
            Posix.madvise(address, length, Posix.MADV_POPULATE_READ);
        } else {
            touchEachPage(address, length);
        }
    }

    /**
     * Faults the range in for writing, on the calling thread, so that a following
     * copy into it does not wait for the disk. Without {@code MADV_POPULATE_WRITE},
     * reads one byte of each page: that brings the page in, and the write fault
     * that remains is taken by the caller's copy, which is cheap (no I/O).
     */
    public void populateWrite(long address, long length) throws PosixException {
        if (populateSupported) {
            Posix.madvise(address, length, Posix.MADV_POPULATE_WRITE);
        } else {
            touchEachPage(address, length);
        }
    }

    /**
     * Tells the kernel the range will not be needed soon, so its pages go first
     * when memory is short. Without {@code MADV_COLD} this does nothing: the pages
     * then age like any other.
     */
    public void cold(long address, long length) throws PosixException {
        if (coldSupported) {
            Posix.madvise(address, length, Posix.MADV_COLD);
        }
    }

    private static void touchEachPage(long address, long length) {
        int pageSize = Posix.pageSize();
        byte sum = 0;
        for (long page = address; page < address + length; page += pageSize) {
            sum ^= MEMORY.getByte(page);
        }
        touchSink = sum;
    }

    /** Probes the kernel once, when {@link #ofKernel()} is first called. */
    private static final class KernelProbe {

        static final MemoryAdvice ADVICE = probe();

        private static MemoryAdvice probe() {
            int pageSize = Posix.pageSize();
            try {
                long page = Posix.mmap(pageSize, Posix.PROT_READ | Posix.PROT_WRITE,
                        Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS, -1, 0);
                try {
                    return new MemoryAdvice(
                            accepts(page, pageSize, Posix.MADV_POPULATE_READ)
                                    && accepts(page, pageSize, Posix.MADV_POPULATE_WRITE),
                            accepts(page, pageSize, Posix.MADV_COLD));
                } finally {
                    Posix.munmap(page, pageSize);
                }
            } catch (PosixException e) {
                throw new IllegalStateException("cannot probe madvise support", e);
            }
        }

        /** Whether the kernel knows {@code advice}: an unknown one fails with EINVAL. */
        private static boolean accepts(long page, int pageSize, int advice) throws PosixException {
            try {
                Posix.madvise(page, pageSize, advice);
                return true;
            } catch (PosixException e) {
                if (e.errno() == Errno.EINVAL) {
                    return false;
                }
                throw e;
            }
        }
    }
}
