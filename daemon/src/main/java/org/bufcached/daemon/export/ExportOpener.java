package org.bufcached.daemon.export;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bufcached.config.ExportConfig;
import org.bufcached.config.FlushClass;
import org.bufcached.daemon.bitmap.BitmapRegistry;
import org.bufcached.daemon.bitmap.ExportBitmaps;
import org.bufcached.daemon.cache.BufCache;
import org.bufcached.daemon.store.BackingFile;
import org.bufcached.daemon.store.PosixException;

/**
 * Opens the backing file of an export as its configuration says (created or
 * extended sparsely when a size is given, read-only when asked) and serves it
 * through the buffer cache.
 */
public final class ExportOpener {
    private final BufCache cache;
    private final BitmapRegistry bitmaps;

    public ExportOpener(BufCache cache, BitmapRegistry bitmaps) {
        this.cache = cache;
        this.bitmaps = bitmaps;
    }

    public Export open(ExportConfig config) throws IOException {
        Path path = config.path();
        BackingFile file;
        if (config.size().isPresent()) {
            if (path.getParent() != null) {
                Files.createDirectories(path.getParent());
            }
            file = BackingFile.openOrCreate(path, config.size().getAsLong());
            if (config.readonly()) {
                // Created or extended as asked; served through a read-only descriptor.
                file.close();
                file = BackingFile.open(path, true);
            }
        } else {
            file = BackingFile.open(path, config.readonly());
        }
        try {
            if (file.size() == 0) {
                throw new IOException("export " + config.name() + ": " + path + " is empty; give it a size");
            }
        } catch (PosixException | RuntimeException e) {
            file.close();
            throw e;
        }
        boolean heavy = config.flushClass() == FlushClass.HEAVY;
        CachedBlockStore cached;
        try {
            cached = new CachedBlockStore(cache, cache.attach(config.name(), file, heavy));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
        return new Export(config, track(config, cached));
    }

    /** The store with the export's dirty bitmaps; a bitmap that cannot be opened closes the store again. */
    private BlockStore track(ExportConfig config, CachedBlockStore cached) throws IOException {
        if (config.readonly()) {
            ExportBitmaps none = ExportBitmaps.none(config.name(), cached.size());
            return new TrackedBlockStore(cached, none, () -> { });
        }
        try {
            ExportBitmaps set = bitmaps.acquire(config.name(), config.path(), cached.size(), config.bitmaps());
            return new TrackedBlockStore(cached, set, () -> bitmaps.release(set));
        } catch (IOException e) {
            cached.close();
            // Not the export file's own error: say which file, and keep ExportErrors from reading it as one.
            String what = e instanceof java.nio.file.FileSystemException || e instanceof PosixException
                    ? "dirty bitmap files beside " + config.path() + ": " + e.getMessage() : e.getMessage();
            throw new IOException(what, e);
        } catch (RuntimeException e) {
            cached.close();
            throw e;
        }
    }
}
