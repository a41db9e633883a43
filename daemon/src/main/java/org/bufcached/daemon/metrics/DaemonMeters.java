package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.bufcached.protocol.BuildInfo;

/**
 * The daemon's one meter registry, in Prometheus form, with the JVM and process
 * meters (memory, GC, threads, class loading, CPU, uptime, file descriptors)
 * bound from the start. Everything else (requests, connections, the buffer
 * cache) registers its own meters in it.
 */
public final class DaemonMeters implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** Listens to GC notifications until closed. */
    private final JvmGcMetrics gc = new JvmGcMetrics();

    public DaemonMeters() {
        registry.config().meterFilter(PromtoolClean.FILTER).meterFilter(ClusterSizeBuckets.FILTER);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /**
     * {@code bufcached_build_info{version,commit,engine}}: what is running, so a
     * dashboard can show it and an upgrade shows as a change of labels.
     *
     * @param engine the I/O engine (today the Netty transport: epoll, io_uring or nio)
     */
    public void buildInfo(String engine) {
        BuildInfo build = BuildInfo.current();
        Gauge.builder("bufcached.build.info", () -> 1)
                .description("Always 1; the labels say which build runs with which I/O engine")
                .tags("version", build.version(), "commit", build.commit(), "engine", engine)
                .register(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
