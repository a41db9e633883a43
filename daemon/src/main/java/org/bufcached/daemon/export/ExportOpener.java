package org.bufcached.daemon.export;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bufcached.config.ExportConfig;
import org.bufcached.daemon.store.BackingFile;
import org.bufcached.daemon.store.PosixException;

/**
 * Opens the backing file of an export as its configuration says: created or
 * extended sparsely when a size is given, read-only when asked.
 */
public final class ExportOpener {
    private final IoWorkers workers;

    public ExportOpener(IoWorkers workers) {
        this.workers = workers;
    }

    public Export open(ExportConfig config) throws IOException {
        Path path = config.path();
        BackingFile file;
        if (config.size().isPresent() && !config.readonly()) {
            if (path.getParent() != null) {
                Files.createDirectories(path.getParent());
            }
            file = BackingFile.openOrCreate(path, config.size().getAsLong());
        } else {
            file = BackingFile.open(path, config.readonly());
        }
        try {
            return new Export(config, new DirectFileStore(file, workers));
        } catch (PosixException e) {
            file.close();
            throw e;
        }
    }
}
