package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.bufcached.protocol.NbdError;

/** The meters of one (export, command) pair. */
final class CommandMeters {
    private final MeterRegistry registry;
    private final String export;
    private final String command;
    private final Counter requests;
    private final Counter bytes;
    private final Timer duration;
    /**
     * By {@link NbdError} ordinal, created on the first such error so that a
     * scrape does not list every error of every command at zero. Two event
     * loops racing to create one get the same counter from the registry.
     */
    private final AtomicReferenceArray<Counter> errors = new AtomicReferenceArray<>(NbdError.values().length);

    CommandMeters(MeterRegistry registry, String export, String command) {
        this.registry = registry;
        this.export = export;
        this.command = command;
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
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(10_000))
                .maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
    }

    void record(long length, NbdError error, long nanos) {
        requests.increment();
        duration.record(nanos, TimeUnit.NANOSECONDS);
        if (error == null) {
            bytes.increment(length);
        } else {
            errorCounter(error).increment();
        }
    }

    private Counter errorCounter(NbdError error) {
        Counter counter = errors.get(error.ordinal());
        if (counter == null) {
            counter = Counter.builder("bufcached.request.errors")
                    .description("NBD requests answered with an error, by NBD error")
                    .tags("export", export, "command", command, "error", error.name())
                    .register(registry);
            errors.set(error.ordinal(), counter);
        }
        return counter;
    }

    void remove() {
        for (Meter meter : new Meter[] {requests, bytes, duration}) {
            registry.remove(meter);
        }
        for (int i = 0; i < errors.length(); i++) {
            Counter counter = errors.get(i);
            if (counter != null) {
                registry.remove(counter);
            }
        }
    }
}
