package org.bufcached.daemon.metrics;

import java.time.Duration;

/**
 * The bucket bounds of {@code bufcached_request_duration_seconds}, chosen from
 * what this server measures rather than a generic exponential series: cache
 * hits answered on the event loop take a few microseconds, page-ins and writes
 * through a worker tens to hundreds, FLUSH (fdatasync) milliseconds, and
 * anything past a second is a stuck disk. 12 bounds plus +Inf: 15 series per
 * (export, command) with _sum and _count.
 */
final class LatencyBuckets {
    static final Duration[] BOUNDS = {
        micros(5), micros(10), micros(25), micros(50), micros(100), micros(250),
        micros(500), micros(1000), micros(5000), micros(25_000), micros(100_000), micros(1_000_000),
    };

    private LatencyBuckets() {
    }

    private static Duration micros(long us) {
        return Duration.ofNanos(us * 1000);
    }
}
