package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bufcached.daemon.net.RequestObserver;
import org.bufcached.protocol.NbdError;

/**
 * Request meters per export and command: counts, bytes, errors by NBD error and
 * a latency histogram. Runs on the event loops after every reply, so the meters
 * of an export are built when the export is registered and then reached through
 * a map keyed by the export's name and an array indexed by command type: no tags
 * or meter ids are built per request.
 */
public final class RequestMeters implements RequestObserver {
    private final MeterRegistry registry;
    private final Map<String, ExportRequestMeters> byExport = new ConcurrentHashMap<>();

    public RequestMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Creates an export's series, at zero, when it starts taking connections. */
    public void register(String export) {
        byExport.computeIfAbsent(export, name -> new ExportRequestMeters(registry, name));
    }

    @Override
    public void completed(String export, int type, long length, NbdError error, long nanos) {
        ExportRequestMeters meters = byExport.get(export);
        if (meters != null) { // null: a request that finished after its export was removed
            meters.record(type, length, error, nanos);
        }
    }

    /** Drops an export's meters once it is removed, so its series leave the scrape. */
    public void forget(String export) {
        ExportRequestMeters meters = byExport.remove(export);
        if (meters != null) {
            meters.remove();
        }
    }
}
