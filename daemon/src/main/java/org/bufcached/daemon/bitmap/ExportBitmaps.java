package org.bufcached.daemon.bitmap;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.bufcached.config.BitmapConfig;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.store.PosixException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dirty bitmaps of one backing file, each in {@code .FILE.bitmap-NAME} beside
 * it. Opening finds every bitmap file of the export (those the configuration
 * names and those added through the admin socket) and creates the configured
 * ones that are missing. Requests read the set through a volatile array, so
 * marking takes no lock; adding, removing and clearing are serialized on this
 * object (the lock guards changes of {@link #bitmaps} and the files).
 */
public final class ExportBitmaps {
    private static final Logger LOG = LoggerFactory.getLogger(ExportBitmaps.class);
    private static final String INFIX = ".bitmap-";

    private final String export;
    private final Path dataFile;
    private final long exportSize;
    private final UUID boot;
    private volatile DirtyBitmap[] bitmaps;
    /** A read-only export: nothing changes, so no bitmap may be added. */
    private final boolean readOnly;
    /** Set when another instance of the same file took over (the export was replaced with a new size). */
    private volatile boolean superseded;

    private ExportBitmaps(String export, Path dataFile, long exportSize, UUID boot, DirtyBitmap[] bitmaps,
                          boolean readOnly) {
        this.readOnly = readOnly;
        this.export = export;
        this.dataFile = dataFile;
        this.exportSize = exportSize;
        this.boot = boot;
        this.bitmaps = bitmaps;
    }

    /** Where bitmap {@code name} of {@code dataFile} lives. */
    public static Path fileOf(Path dataFile, String name) {
        return dataFile.resolveSibling("." + dataFile.getFileName() + INFIX + name);
    }

    static ExportBitmaps open(String export, Path dataFile, long exportSize, List<BitmapConfig> configured,
                              UUID boot) throws IOException {
        List<DirtyBitmap> opened = new ArrayList<>();
        try {
            for (String name : existing(dataFile)) {
                long granularity = configured.stream().filter(b -> b.name().equals(name))
                        .mapToLong(BitmapConfig::granularity).findFirst().orElse(0);
                opened.add(DirtyBitmap.open(fileOf(dataFile, name), name, exportSize, granularity, boot));
            }
            for (BitmapConfig b : configured) {
                if (opened.stream().noneMatch(o -> o.name().equals(b.name()))) {
                    opened.add(DirtyBitmap.create(fileOf(dataFile, b.name()), b.name(), b.granularity(), exportSize,
                            boot));
                    LOG.info("export '{}': created bitmap '{}' ({}, granularity {})", export, b.name(),
                            fileOf(dataFile, b.name()), b.granularity());
                }
            }
        } catch (IOException | RuntimeException e) {
            opened.forEach(b -> b.close(false));
            throw e;
        }
        return new ExportBitmaps(export, dataFile, exportSize, boot, opened.toArray(new DirtyBitmap[0]), false);
    }

    /** The empty set of a read-only export, or of a store without a file of its own (tests). */
    public static ExportBitmaps none(String export, long exportSize) {
        return new ExportBitmaps(export, null, exportSize, null, new DirtyBitmap[0], true);
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** The names of the bitmap files beside {@code dataFile}. */
    private static List<String> existing(Path dataFile) throws IOException {
        String prefix = "." + dataFile.getFileName() + INFIX;
        List<String> names = new ArrayList<>();
        Path dir = dataFile.toAbsolutePath().getParent();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, prefix + "*")) {
            for (Path f : files) {
                String name = f.getFileName().toString().substring(prefix.length());
                if (BitmapConfig.nameProblem(name).isEmpty()) {
                    names.add(name);
                }
            }
        }
        names.sort(null);
        return names;
    }

    public String export() {
        return export;
    }

    public long exportSize() {
        return exportSize;
    }

    public boolean isEmpty() {
        return bitmaps.length == 0;
    }

    /** The bitmaps now, in name order. */
    public List<DirtyBitmap> all() {
        return List.of(bitmaps);
    }

    /** The bitmap called {@code name}, or null. */
    public DirtyBitmap find(String name) {
        for (DirtyBitmap b : bitmaps) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        return null;
    }

    /** Marks {@code [offset, offset + length)} dirty in every bitmap: lock-free, allocation-free. */
    public void mark(long offset, long length) {
        for (DirtyBitmap b : bitmaps) {
            b.mark(offset, length);
        }
    }

    /** Whether some bitmap has bits set that are not yet known durable. */
    public boolean unsynced() {
        for (DirtyBitmap b : bitmaps) {
            if (!b.isSynced(b.syncTarget())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Makes every bit set so far durable, then runs {@code then}: on {@code io}'s
     * event loop with an fdatasync of each bitmap that has unsynced bits on its
     * ring, or at once on the calling thread when there is no loop.
     */
    public void sync(FileIo io, Runnable then, Consumer<Throwable> failed) {
        List<DirtyBitmap> pending = new ArrayList<>();
        for (DirtyBitmap b : bitmaps) {
            if (!b.isSynced(b.syncTarget())) {
                pending.add(b);
            }
        }
        if (io == null) {
            try {
                for (DirtyBitmap b : pending) {
                    b.syncNow();
                }
            } catch (IOException e) {
                failed.accept(e);
                return;
            }
            then.run();
            return;
        }
        int[] left = {pending.size()};
        Throwable[] failure = {null};
        for (DirtyBitmap b : pending) {
            long target = b.syncTarget();
            io.fdatasync(b.fd(), result -> {
                if (result < 0) {
                    failure[0] = new PosixException("fdatasync", (int) -result, b.toString());
                } else {
                    b.synced(target);
                }
                if (--left[0] == 0) {
                    if (failure[0] != null) {
                        failed.accept(failure[0]);
                    } else {
                        then.run();
                    }
                }
            });
        }
        if (pending.isEmpty()) {
            then.run();
        }
    }

    /**
     * Creates an empty bitmap, durable before this returns.
     *
     * @throws IllegalStateException when the name is taken or the export is read-only
     */
    public synchronized DirtyBitmap add(String name, long granularity) throws IOException {
        if (readOnly) {
            throw new IllegalStateException("export '" + export + "' is read-only: it never changes, so a "
                    + "dirty bitmap would stay empty");
        }
        if (find(name) != null) {
            throw new IllegalStateException("export '" + export + "' already has a bitmap '" + name + "'");
        }
        DirtyBitmap created = DirtyBitmap.create(fileOf(dataFile, name), name, granularity, exportSize, boot);
        DirtyBitmap[] next = Arrays.copyOf(bitmaps, bitmaps.length + 1);
        next[next.length - 1] = created;
        Arrays.sort(next, java.util.Comparator.comparing(DirtyBitmap::name));
        bitmaps = next;
        return created;
    }

    /**
     * Deletes a bitmap and its file.
     *
     * @throws IllegalArgumentException when there is no such bitmap (so for {@link #clear})
     */
    public synchronized void remove(String name) throws IOException {
        DirtyBitmap gone = require(name);
        bitmaps = Arrays.stream(bitmaps).filter(b -> b != gone).toArray(DirtyBitmap[]::new);
        gone.remove();
    }

    /** Clears a bitmap, durably. */
    public synchronized void clear(String name) throws IOException {
        require(name).clear();
    }

    private DirtyBitmap require(String name) {
        DirtyBitmap b = find(name);
        if (b == null) {
            throw new IllegalArgumentException("export '" + export + "' has no bitmap '" + name + "'");
        }
        return b;
    }

    /** After a reload: creates the configured bitmaps that do not exist; others are kept. */
    public synchronized void ensure(List<BitmapConfig> configured) throws IOException {
        for (BitmapConfig b : configured) {
            DirtyBitmap existing = find(b.name());
            if (existing == null) {
                add(b.name(), b.granularity());
                LOG.info("export '{}': created bitmap '{}' (granularity {})", export, b.name(), b.granularity());
            } else if (existing.granularity() != b.granularity()) {
                LOG.warn("export '{}': bitmap '{}' keeps its granularity {}; the configuration's {} applies only "
                        + "to a bitmap created anew (remove it with 'bufcache admin bitmap remove')", export,
                        b.name(), existing.granularity(), b.granularity());
            }
        }
    }

    void supersede() {
        superseded = true;
    }

    /** Syncs and closes every bitmap (not on an event loop). */
    synchronized void close() {
        for (DirtyBitmap b : bitmaps) {
            b.close(superseded);
        }
    }

    @Override
    public String toString() {
        return "bitmaps of export '" + export + "' (" + bitmaps.length + ")";
    }
}
