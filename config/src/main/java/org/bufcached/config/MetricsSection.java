package org.bufcached.config;

import java.util.List;

/** Reads {@code metrics}: whether the Prometheus endpoint runs, and where. */
final class MetricsSection {
    static final List<String> KEYS = List.of("enabled", "listen");
    static final MetricsConfig DEFAULTS = new MetricsConfig(true, new HostPort("127.0.0.1", 10810));

    private MetricsSection() {
    }

    static MetricsConfig parse(YamlMap map) {
        return new MetricsConfig(
                map.get("enabled", ScalarType.BOOLEAN).orElse(DEFAULTS.enabled()),
                map.get("listen", ScalarType.HOST_PORT).orElse(DEFAULTS.listen()));
    }
}
