package org.bufcached.config;

import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

/** Reads {@code limits}: connection counts, handshake, idle and shutdown timeouts, payload memory. */
final class LimitsSection {
    static final List<String> KEYS = List.of("max-connections", "max-connections-per-export", "max-handshaking",
            "max-handshaking-per-address", "handshake-timeout", "idle-timeout", "stuck-request", "shutdown-timeout",
            "payload-memory", "payload-timeout");
    static final LimitsConfig DEFAULTS = new LimitsConfig(1024, 256, 32, 8, Duration.ofSeconds(10), Duration.ZERO,
            Duration.ofSeconds(60), Duration.ofSeconds(30), OptionalLong.empty(), Duration.ofSeconds(10));

    private static final ScalarType<Duration> POSITIVE_DURATION = ScalarType.DURATION.where(
            duration -> !duration.isZero(), "must be longer than 0");

    private LimitsSection() {
    }

    static LimitsConfig parse(YamlMap map) {
        return new LimitsConfig(
                map.get("max-connections", ScalarType.POSITIVE_COUNT).orElse(DEFAULTS.maxConnections()),
                map.get("max-connections-per-export", ScalarType.POSITIVE_COUNT)
                        .orElse(DEFAULTS.maxConnectionsPerExport()),
                map.get("max-handshaking", ScalarType.POSITIVE_COUNT).orElse(DEFAULTS.maxHandshaking()),
                map.get("max-handshaking-per-address", ScalarType.POSITIVE_COUNT)
                        .orElse(DEFAULTS.maxHandshakingPerAddress()),
                map.get("handshake-timeout", POSITIVE_DURATION).orElse(DEFAULTS.handshakeTimeout()),
                map.get("idle-timeout", ScalarType.DURATION).orElse(DEFAULTS.idleTimeout()),
                map.get("stuck-request", ScalarType.DURATION).orElse(DEFAULTS.stuckRequest()),
                map.get("shutdown-timeout", ScalarType.DURATION).orElse(DEFAULTS.shutdownTimeout()),
                map.get("payload-memory", ScalarType.POSITIVE_SIZE).map(OptionalLong::of)
                        .orElse(DEFAULTS.payloadMemory()),
                map.get("payload-timeout", POSITIVE_DURATION).orElse(DEFAULTS.payloadTimeout()));
    }
}
