package org.bufcached.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The whole, validated configuration of the daemon. Immutable, so a reload can
 * build a new one beside the running one and compare them with {@link ConfigDiff}.
 *
 * @param source the file it was loaded from; empty for the embedded default or parsed text
 */
public record BufcachedConfig(ListenConfig listen, List<ExportConfig> exports, CacheConfig cache, IoConfig io,
                              LimitsConfig limits, MetricsConfig metrics, LoggingConfig logging, TlsConfig tls,
                              AdminConfig admin, Optional<Path> source) {
    public BufcachedConfig {
        exports = List.copyOf(exports);
    }

    /** A configuration without the admin socket. */
    public BufcachedConfig(ListenConfig listen, List<ExportConfig> exports, CacheConfig cache, IoConfig io,
                           LimitsConfig limits, MetricsConfig metrics, LoggingConfig logging, TlsConfig tls,
                           Optional<Path> source) {
        this(listen, exports, cache, io, limits, metrics, logging, tls, AdminConfig.OFF, source);
    }

    /** A configuration without TLS. */
    public BufcachedConfig(ListenConfig listen, List<ExportConfig> exports, CacheConfig cache, IoConfig io,
                           LimitsConfig limits, MetricsConfig metrics, LoggingConfig logging, Optional<Path> source) {
        this(listen, exports, cache, io, limits, metrics, logging, TlsConfig.OFF, AdminConfig.OFF, source);
    }

    /** The export called {@code name}, if configured. */
    public Optional<ExportConfig> export(String name) {
        return exports.stream().filter(export -> export.name().equals(name)).findFirst();
    }
}
