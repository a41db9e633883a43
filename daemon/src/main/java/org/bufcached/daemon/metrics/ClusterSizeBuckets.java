package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;

/**
 * {@code bufcached_cache_cluster_size_bytes} in 8 buckets, from one 64 KiB buffer
 * to 16 MiB, instead of the ~270 of a default percentile histogram: the sizes a
 * clustered write-back can take are powers of two of the buffer size up to
 * {@code cache.cluster-limit}.
 */
final class ClusterSizeBuckets implements MeterFilter {
    static final MeterFilter FILTER = new ClusterSizeBuckets();
    private static final double KIB = 1024;

    private ClusterSizeBuckets() {
    }

    @Override
    public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
        if (!id.getName().equals("bufcached.cache.cluster.size")) {
            return config;
        }
        return DistributionStatisticConfig.builder()
                .percentilesHistogram(false)
                .serviceLevelObjectives(64 * KIB, 128 * KIB, 256 * KIB, 512 * KIB, 1024 * KIB, 2048 * KIB,
                        4096 * KIB, 16384 * KIB)
                .build()
                .merge(config);
    }
}
