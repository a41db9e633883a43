package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bufcached.daemon.cache.FileStats;
import org.bufcached.daemon.export.BlockStore;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.net.Connections;
import org.bufcached.daemon.net.ExportConnections;
import org.bufcached.daemon.reload.ExportEvents;

/**
 * The series of each export, registered when it starts taking connections and
 * removed when a reload removes or replaces it: {@code bufcached_export_info},
 * connections open, the cache's view of its file ({@link FileStats}: hits,
 * misses, dirty bytes, write-back errors, refused durability) and, through
 * {@link RequestMeters}, its requests at zero. Read at scrape time: nothing here
 * runs per request.
 */
public final class ExportMeters implements ExportEvents {
    private final MeterRegistry registry;
    private final RequestMeters requests;
    private final Connections connections;
    /** Guarded by {@code this}: the meters registered for each export, by name. */
    private final Map<String, List<Meter>> byExport = new HashMap<>();

    public ExportMeters(MeterRegistry registry, RequestMeters requests, Connections connections) {
        this.registry = registry;
        this.requests = requests;
        this.connections = connections;
    }

    /** Registers an export's series; an export of the same name is replaced. */
    @Override
    public synchronized void add(Export export) {
        remove(export.name());
        String name = export.name();
        Tags tags = Tags.of("export", name);
        // Meters hold their source weakly: the store and its stats live as long as the export.
        BlockStore store = export.store();
        FileStats stats = export.stats();
        List<Meter> meters = new ArrayList<>();
        meters.add(Gauge.builder("bufcached.export.info", () -> 1)
                .description("Always 1; the labels describe the export as configured")
                .tags(tags.and("path", export.path().toString(), "readonly", Boolean.toString(export.readOnly()),
                        "size_bytes", Long.toString(export.size())))
                .register(registry));
        meters.add(Gauge.builder("bufcached.export.connections.open", store, this::openOn)
                .description("Connections in the transmission phase on this export")
                .tags(tags).register(registry));
        meters.add(FunctionCounter.builder("bufcached.export.cache.hits", stats, FileStats::cacheHits)
                .description("Block lookups of READ served from a valid buffer")
                .tags(tags).register(registry));
        meters.add(FunctionCounter.builder("bufcached.export.cache.misses", stats, FileStats::cacheMisses)
                .description("Block lookups of READ that needed a buffer or a page-in")
                .tags(tags).register(registry));
        meters.add(Gauge.builder("bufcached.export.dirty", stats, FileStats::dirtyBytes).baseUnit("bytes")
                .description("Bytes written by clients that the flushers have not written back yet "
                        + "(in the page cache, not yet durable)")
                .tags(tags).register(registry));
        meters.add(FunctionCounter.builder("bufcached.export.writeback.errors", stats, FileStats::writebackErrors)
                .description("Write-backs of this export's file that failed")
                .tags(tags).register(registry));
        meters.add(Gauge.builder("bufcached.export.durability.failed", stats, s -> s.durabilityFailed() ? 1 : 0)
                .description("1 while FLUSH and FUA are refused because an earlier write-back failed")
                .tags(tags).register(registry));
        byExport.put(name, meters);
        requests.register(name);
    }

    /** Removes an export's series. */
    @Override
    public synchronized void remove(String name) {
        List<Meter> meters = byExport.remove(name);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
        requests.forget(name);
    }

    private double openOn(BlockStore store) {
        ExportConnections group = connections.of(store);
        return group == null ? 0 : group.open();
    }
}
