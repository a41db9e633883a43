package org.bufcached.daemon.export;

import java.io.IOException;
import org.bufcached.config.ExportConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens exports for the start-up and for reloads the way an operator needs: a
 * failure comes back as an {@link IOException} whose message names the export
 * and says what to do ({@link ExportErrors}), and a {@code size=} smaller than
 * the existing file (which is never shrunk) is a warning.
 */
public final class CheckedOpener {
    private static final Logger LOG = LoggerFactory.getLogger(CheckedOpener.class);
    private final ExportOpener opener;

    public CheckedOpener(ExportOpener opener) {
        this.opener = opener;
    }

    public Export open(ExportConfig config) throws IOException {
        Export export;
        try {
            export = opener.open(config);
        } catch (IOException | RuntimeException e) {
            throw new IOException(ExportErrors.explain(config, e), e);
        }
        if (config.size().isPresent() && export.size() > config.size().getAsLong()) {
            LOG.warn("export '{}': {} is {} bytes, more than size={}; serving all of it (size= never shrinks a file)",
                    config.name(), config.path(), export.size(), config.size().getAsLong());
        }
        return export;
    }
}
