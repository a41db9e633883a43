package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;

/**
 * Keeps {@code promtool check metrics} quiet about the JVM binders' two names
 * that break Prometheus conventions: {@code system_cpu_count} (a gauge named like
 * a summary's count) becomes {@code system_cpu_cores}, and
 * {@code process_cpu_time_ns_total} (an abbreviated unit) is left out, since
 * {@code process_cpu_usage} says the same.
 */
final class PromtoolClean implements MeterFilter {
    static final MeterFilter FILTER = new PromtoolClean();

    private PromtoolClean() {
    }

    @Override
    public MeterFilterReply accept(Meter.Id id) {
        return id.getName().equals("process.cpu.time") ? MeterFilterReply.DENY : MeterFilterReply.NEUTRAL;
    }

    @Override
    public Meter.Id map(Meter.Id id) {
        return id.getName().equals("system.cpu.count") ? id.withName("system.cpu.cores") : id;
    }
}
