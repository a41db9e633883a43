package org.bufcached.daemon.bitmap;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.bufcached.daemon.store.Posix;
import org.bufcached.daemon.store.PosixException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One dirty bitmap: a bit per {@code granularity} bytes of the export, set when
 * a request changes any byte of its range, in a file mapped {@code MAP_SHARED}
 * (a {@link BitmapHeader} page, then the bits as little-endian 64-bit words).
 *
 * <p>Setting bits is lock-free and allocates nothing: a word whose bits are all
 * set already is only read; otherwise one atomic OR. A store to the mapping is in
 * the page cache at once, so a bit set before the data is handed to the cache
 * survives a crash of the daemon. Each bit that goes from clear to set counts in
 * {@link #changes}; a FLUSH or FUA syncs the file first when some change is not
 * yet synced ({@link #syncTarget}, {@link #synced}), so the bits of every write a
 * FLUSH covers reach the disk before its data is synced.
 *
 * <p>The header is changed (clear, close) under this object's lock; the bits never are.
 * The mapping is never unmapped explicitly (the collector does it once nothing
 * refers to the bitmap), so a request still holding a removed bitmap cannot
 * touch unmapped memory.
 */
public final class DirtyBitmap {
    private static final Logger LOG = LoggerFactory.getLogger(DirtyBitmap.class);
    private static final VarHandle WORDS = MethodHandles.byteBufferViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);
    /** The flag of a dirty extent in {@code qemu:dirty-bitmap:} contexts (NBD_STATE_DIRTY in qemu's docs). */
    public static final int STATE_DIRTY = 1;

    private final String name;
    private final Path file;
    private final long granularity;
    private final int shift;
    private final long exportSize;
    /** Granules: bits that mean something. */
    private final long granules;
    private final MappedByteBuffer map;
    /** A descriptor of the file for fdatasync on an event loop's ring. */
    private final int fd;
    /** Bits set from clear to set since the file was opened. */
    private final AtomicLong changes = new AtomicLong();
    /** The value of {@link #changes} that the last completed sync covers. */
    private final AtomicLong synced = new AtomicLong();
    private volatile boolean removed;
    /** Guarded by this. */
    private BitmapHeader header;
    /** Guarded by this. */
    private boolean closed;

    private DirtyBitmap(String name, Path file, BitmapHeader header, MappedByteBuffer map, int fd) {
        this.name = name;
        this.file = file;
        this.header = header;
        this.granularity = header.granularity();
        this.shift = Long.numberOfTrailingZeros(granularity);
        this.exportSize = header.exportSize();
        this.granules = (exportSize + granularity - 1) >>> shift;
        this.map = map;
        this.fd = fd;
    }

    /** Bytes of the file: the header, then whole words for every granule. */
    private static long fileSize(long exportSize, long granularity) {
        long granules = (exportSize + granularity - 1) / granularity;
        return BitmapHeader.SIZE + ((granules + 63) / 64) * 8;
    }

    /**
     * Creates an empty bitmap file (written aside and renamed into place, then
     * the directory synced, so a crash leaves either no file or a whole one) and
     * opens it.
     */
    static DirtyBitmap create(Path file, String name, long granularity, long exportSize, UUID boot)
            throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".new");
        long now = System.currentTimeMillis();
        BitmapHeader header = new BitmapHeader(granularity, exportSize, false, boot, now, now);
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer page = java.nio.ByteBuffer.allocate(BitmapHeader.SIZE);
            header.write(page);
            channel.write(page, 0);
            // The bits start clear: a sparse tail reads as zeroes.
            channel.truncate(fileSize(exportSize, granularity));
            if (channel.size() < fileSize(exportSize, granularity)) {
                channel.write(java.nio.ByteBuffer.allocate(1), fileSize(exportSize, granularity) - 1);
            }
            channel.force(true);
        }
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(file);
        return open(file, name, exportSize, granularity, boot);
    }

    /**
     * Opens an existing bitmap file for an export of {@code exportSize} bytes.
     * {@code granularity} 0 takes the file's; another value must match it. A file
     * left "in use" by a daemon of another boot (the host crashed) may lack the
     * bits of writes no FLUSH covered: every bit is set. An export that grew gets
     * its new range marked dirty; one that shrank loses the bits past its end.
     */
    static DirtyBitmap open(Path file, String name, long exportSize, long granularity, UUID boot)
            throws IOException {
        BitmapHeader header;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer page = java.nio.ByteBuffer.allocate(BitmapHeader.SIZE);
            if (channel.read(page, 0) < BitmapHeader.SIZE) {
                throw new IOException(file + " is too short to be a bitmap file");
            }
            header = BitmapHeader.read(page.flip(), file.toString());
            if (granularity != 0 && header.granularity() != granularity) {
                throw new IOException("bitmap '" + name + "': " + file + " has granularity " + header.granularity()
                        + ", the configuration says " + granularity + " (restore the setting, or remove the bitmap "
                        + "with 'bufcache admin bitmap remove' and let it be created anew)");
            }
            long oldSize = header.exportSize();
            long size = fileSize(exportSize, header.granularity());
            if (channel.size() < fileSize(oldSize, header.granularity())) {
                throw new IOException(file + " is shorter than its header says (" + channel.size() + " bytes)");
            }
            // Never shrunk: another daemon instance of the same file (an export being replaced) may map it all.
            if (channel.size() < size) {
                channel.write(java.nio.ByteBuffer.allocate(1), size - 1); // grown: the new words read as zero
            }
        }
        int fd = Posix.open(file, Posix.O_RDWR | Posix.O_CLOEXEC, 0);
        MappedByteBuffer map;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            map = channel.map(FileChannel.MapMode.READ_WRITE, 0, fileSize(exportSize, header.granularity()));
        } catch (IOException | RuntimeException e) {
            Posix.close(fd);
            throw e;
        }
        DirtyBitmap bitmap = new DirtyBitmap(name, file, header.inUse(boot, exportSize), map, fd);
        bitmap.adopt(header, boot);
        return bitmap;
    }

    /** Reconciles the bits with what happened since the file was last used ({@link #open}). */
    private void adopt(BitmapHeader found, UUID boot) throws IOException {
        if (found.inUse() && !found.bootId().equals(boot)) {
            LOG.warn("bitmap '{}' ({}): the host stopped without the daemon closing the bitmap (another boot), so "
                    + "writes that no FLUSH covered may be missing from it: every block is marked dirty", name, file);
            mark(0, exportSize);
        } else if (found.inUse()) {
            LOG.info("bitmap '{}' ({}): the daemon stopped without closing it; its bits are intact (the page cache "
                    + "kept them)", name, file);
        }
        if (found.exportSize() < exportSize) {
            LOG.info("bitmap '{}': the export grew from {} to {} bytes; the new range is marked dirty", name,
                    found.exportSize(), exportSize);
            mark(found.exportSize(), exportSize - found.exportSize());
        } else if (found.exportSize() > exportSize) {
            LOG.warn("bitmap '{}': the export shrank from {} to {} bytes; the bits past its end are dropped", name,
                    found.exportSize(), exportSize);
            clearPast(exportSize);
        }
        synchronized (this) {
            header.write(map);
            force();
        }
    }

    /** Clears the bits of the granules that start at or past {@code end} (in the last word that holds some). */
    private void clearPast(long end) {
        long firstGone = (end + granularity - 1) >>> shift;
        long words = (long) (map.capacity() - BitmapHeader.SIZE) / 8;
        for (long w = firstGone >>> 6; w < words; w++) {
            long keep = w == firstGone >>> 6 ? (1L << (firstGone & 63)) - 1 : 0;
            long index = BitmapHeader.SIZE + w * 8;
            WORDS.setVolatile(map, (int) index, (long) WORDS.getVolatile(map, (int) index) & keep);
        }
    }

    public String name() {
        return name;
    }

    public Path file() {
        return file;
    }

    public long granularity() {
        return granularity;
    }

    public long exportSize() {
        return exportSize;
    }

    /** When the bitmap was created, and last cleared (milliseconds since the epoch). */
    public synchronized long createdMillis() {
        return header.createdMillis();
    }

    public synchronized long clearedMillis() {
        return header.clearedMillis();
    }

    /** Whether it was removed: sessions that selected it answer BLOCK_STATUS with an error. */
    public boolean removed() {
        return removed;
    }

    /**
     * Marks the granules {@code [offset, offset + length)} touches as dirty. Lock-free,
     * allocation-free, safe from any thread; the range is within the export.
     */
    public void mark(long offset, long length) {
        if (length <= 0) {
            return;
        }
        long first = offset >>> shift;
        long last = Math.min((offset + length - 1) >>> shift, granules - 1);
        long set = 0;
        for (long w = first >>> 6; w <= last >>> 6; w++) {
            long mask = mask(w, first, last);
            int index = (int) (BitmapHeader.SIZE + w * 8);
            long current = (long) WORDS.getOpaque(map, index);
            if ((current & mask) != mask) {
                long before = (long) WORDS.getAndBitwiseOr(map, index, mask);
                set += Long.bitCount(mask & ~before);
            }
        }
        if (set != 0) {
            changes.addAndGet(set);
        }
    }

    /** The bits of word {@code w} that lie within granules {@code [first, last]}. */
    private static long mask(long w, long first, long last) {
        long low = w == first >>> 6 ? -1L << (first & 63) : -1L;
        long high = w == last >>> 6 ? -1L >>> (63 - (last & 63)) : -1L;
        return low & high;
    }

    private boolean dirty(long granule) {
        long word = (long) WORDS.getOpaque(map, (int) (BitmapHeader.SIZE + (granule >>> 6) * 8));
        return (word & (1L << (granule & 63))) != 0;
    }

    /**
     * The status of {@code [offset, offset + length)} clipped to the export, as
     * (length, flags) pairs with {@link #STATE_DIRTY} for dirty runs: at least one
     * pair, at most {@code maxExtents}, consecutive pairs of different flags.
     */
    public long[] extents(long offset, long length, int maxExtents) {
        long end = Math.min(exportSize, offset + Math.max(length, 1));
        long[] pairs = new long[2 * Math.max(1, maxExtents)];
        int count = 0;
        long position = offset;
        while (position < end && count < maxExtents) {
            long granule = position >>> shift;
            boolean dirty = dirty(granule);
            long next = nextDiffering(granule + 1, dirty, ((end - 1) >>> shift) + 1);
            long runEnd = Math.min(next << shift, end);
            pairs[2 * count] = runEnd - position;
            pairs[2 * count + 1] = dirty ? STATE_DIRTY : 0;
            count++;
            position = runEnd;
        }
        return java.util.Arrays.copyOf(pairs, 2 * Math.max(count, 1));
    }

    /** The first granule from {@code from} (below {@code limit}) whose bit is not {@code dirty}; else {@code limit}. */
    private long nextDiffering(long from, boolean dirty, long limit) {
        long g = from;
        while (g < limit) {
            long word = (long) WORDS.getOpaque(map, (int) (BitmapHeader.SIZE + (g >>> 6) * 8));
            long differing = (dirty ? ~word : word) & (-1L << (g & 63));
            if (differing != 0) {
                return Math.min(limit, (g & ~63L) + Long.numberOfTrailingZeros(differing));
            }
            g = (g & ~63L) + 64;
        }
        return limit;
    }

    /** Bytes of the export the bitmap reports dirty. */
    public long dirtyBytes() {
        long words = (granules + 63) >>> 6;
        long bits = 0;
        for (long w = 0; w < words; w++) {
            bits += Long.bitCount((long) WORDS.getOpaque(map, (int) (BitmapHeader.SIZE + w * 8)));
        }
        long bytes = bits << shift;
        if (granules > 0 && dirty(granules - 1)) {
            bytes -= (granules << shift) - exportSize; // the last granule may be partial
        }
        return bytes;
    }

    /**
     * Clears every bit and makes that durable before returning: a clear that is
     * answered survives any crash. Writes in flight meanwhile set their bits
     * again when they complete (see {@code TrackedBlockStore}).
     */
    public synchronized void clear() throws IOException {
        checkOpen();
        long words = (granules + 63) >>> 6;
        for (long w = 0; w < words; w++) {
            WORDS.setVolatile(map, (int) (BitmapHeader.SIZE + w * 8), 0L);
        }
        header = header.cleared(System.currentTimeMillis());
        header.write(map);
        force();
    }

    /** The change count a sync started now covers; compare with {@link #isSynced}. */
    public long syncTarget() {
        return changes.get();
    }

    /** Whether every bit set up to {@code target} changes is known durable. */
    public boolean isSynced(long target) {
        return synced.get() >= target;
    }

    /** Records that a sync started at {@code target} completed. */
    public void synced(long target) {
        synced.accumulateAndGet(target, Math::max);
    }

    /** The descriptor to fdatasync: the mapping's dirty pages are the file's. */
    public int fd() {
        return fd;
    }

    /** Syncs the mapping now, on the calling thread (not an event loop). */
    public void syncNow() throws IOException {
        long target = syncTarget();
        Posix.fdatasync(fd);
        synced(target);
    }

    private void force() throws IOException {
        try {
            map.force();
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private void checkOpen() throws IOException {
        if (closed || removed) {
            throw new IOException("bitmap '" + name + "' was removed");
        }
    }

    /**
     * Syncs the bits and, unless {@code superseded} (another instance of the file
     * took over), marks the file closed cleanly. The mapping stays until it is collected.
     */
    synchronized void close(boolean superseded) {
        if (closed) {
            return;
        }
        closed = true;
        try {
            force();
            if (!removed && !superseded) {
                header = header.closed();
                header.write(map);
                force();
            }
        } catch (IOException e) {
            LOG.error("bitmap '{}': closing {} failed: {}", name, file, e.getMessage());
        }
        try {
            Posix.close(fd);
        } catch (PosixException e) {
            LOG.error("bitmap '{}': close of {} failed: {}", name, file, e.getMessage());
        }
    }

    /** Deletes the file; sessions that selected the bitmap see it removed. */
    synchronized void remove() throws IOException {
        removed = true;
        Files.deleteIfExists(file);
        syncDirectory(file);
        close(false);
    }

    static void syncDirectory(Path file) throws IOException {
        try (FileChannel dir = FileChannel.open(file.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    @Override
    public String toString() {
        return "bitmap '" + name + "' (" + file + ", granularity " + granularity + ")";
    }
}
