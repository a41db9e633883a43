package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/** The meters of one (export, command) pair: requests, bytes and a latency histogram. */
final class CommandMeters {
    private final MeterRegistry registry;
    private final Counter requests;
    private final Counter bytes;
    private final Timer duration;

    CommandMeters(MeterRegistry registry, String export, String command) {
        this.registry = registry;
        requests = Counter.builder("bufcached.requests")
                .description("NBD requests answered, successful or not")
                .tags("export", export, "command", command)
                .register(registry);
        bytes = Counter.builder("bufcached.request")
                .baseUnit("bytes")
                .description("Bytes covered by successful requests: the payload of reads and writes, the range of others")
                .tags("export", export, "command", command)
                .register(registry);
        duration = Timer.builder("bufcached.request.duration")
                .description("Time from receiving a request to writing its reply")
                .tags("export", export, "command", command)
                .serviceLevelObjectives(LatencyBuckets.BOUNDS)
                .register(registry);
    }

    /** Counts a request; returns nothing so the caller can count its error apart. */
    void record(long length, boolean failed, long nanos) {
        requests.increment();
        duration.record(nanos, TimeUnit.NANOSECONDS);
        if (!failed) {
            bytes.increment(length);
        }
    }

    void remove() {
        for (Meter meter : new Meter[] {requests, bytes, duration}) {
            registry.remove(meter);
        }
    }
}
