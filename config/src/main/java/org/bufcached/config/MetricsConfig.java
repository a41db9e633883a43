package org.bufcached.config;

/** The Prometheus endpoint: whether it runs and where it listens. */
public record MetricsConfig(boolean enabled, HostPort listen) {
}
