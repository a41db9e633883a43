package org.bufcached.daemon.reload;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bufcached.config.BufcachedConfig;
import org.bufcached.config.ConfigDiff;
import org.bufcached.config.ExportConfig;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.export.CheckedOpener;
import org.bufcached.daemon.export.ExportRegistry;
import org.bufcached.daemon.net.Connections;

/**
 * Brings the export registry in line with a reloaded configuration: added
 * exports appear for new connections, removed ones are drained and closed,
 * replaced ones (new file, size, block sizes...) are both, and exports whose
 * live settings changed (allow lists) keep their store under the new settings.
 */
public final class ExportReconciler {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Reloader.class);
    private final ExportRegistry exports;
    private final Connections connections;
    private final CheckedOpener opener;
    /** Follows the registry: the per-export metrics. */
    private final ExportEvents events;

    public ExportReconciler(ExportRegistry exports, Connections connections, CheckedOpener opener,
                            ExportEvents events) {
        this.exports = exports;
        this.connections = connections;
        this.opener = opener;
        this.events = events;
    }

    /**
     * Applies the export changes of {@code diff}; returns once removed exports
     * are drained and closed.
     *
     * @throws IOException when a new export cannot be opened; then nothing has changed
     */
    public void apply(ConfigDiff diff, BufcachedConfig loaded) throws IOException {
        Map<String, Export> opened = openNew(diff);
        List<Export> retired = new ArrayList<>();
        for (ConfigDiff.ExportChange change : diff.exportsChanged()) {
            Export replacement = opened.get(change.after().name());
            retired.add(swap(replacement));
            events.add(replacement);
        }
        for (ExportConfig removed : diff.exportsRemoved()) {
            retired.add(exports.remove(removed.name()));
            events.remove(removed.name());
        }
        for (ExportConfig added : diff.exportsAdded()) {
            Export export = opened.get(added.name());
            exports.add(export);
            events.add(export);
        }
        for (Export export : exports.snapshot()) {
            // What is left to differ are live settings: same store, new configuration.
            loaded.export(export.name()).filter(config -> !config.equals(export.config()))
                    .ifPresent(config -> swap(live(export, config)));
        }
        // Refuse new requests on all of them first, so their drains overlap.
        List<ExportDrain> drains = new ArrayList<>();
        for (Export export : retired) {
            drains.add(ExportDrain.begin(export, connections, loaded.limits().shutdownTimeout()));
        }
        for (ExportDrain drain : drains) {
            drain.finish();
        }
    }

    /** Opens every added and replacing export before anything changes, so one that fails leaves all as it was. */
    private Map<String, Export> openNew(ConfigDiff diff) throws IOException {
        List<ExportConfig> wanted = new ArrayList<>(diff.exportsAdded());
        diff.exportsChanged().forEach(change -> wanted.add(change.after()));
        Map<String, Export> opened = new LinkedHashMap<>();
        try {
            for (ExportConfig config : wanted) {
                opened.put(config.name(), opener.open(config));
            }
        } catch (IOException | RuntimeException e) {
            opened.values().forEach(export -> export.store().close());
            throw e;
        }
        return opened;
    }

    /**
     * The export under its new live settings, same store; bitmaps newly
     * configured are created (one that cannot be is logged, the rest applies).
     */
    private static Export live(Export export, ExportConfig config) {
        try {
            export.bitmaps().ensure(config.bitmaps());
        } catch (IOException e) {
            LOG.error("reload: export '{}': a configured bitmap could not be created: {}", export.name(),
                    e.getMessage());
        }
        return new Export(config, export.store());
    }

    /** Puts {@code replacement} in place of the export of the same name; returns the one it replaced. */
    private Export swap(Export replacement) {
        return exports.replace(replacement);
    }
}
