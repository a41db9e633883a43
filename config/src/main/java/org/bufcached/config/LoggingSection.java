package org.bufcached.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads {@code logging}. A logback.xml path is checked now rather than when
 * logback loads it, because logback would fall back to its defaults silently.
 */
final class LoggingSection {
    static final List<String> KEYS = List.of("level", "format", "path");
    static final LogLevel DEFAULT_LEVEL = LogLevel.INFO;

    private static final ScalarType<LogLevel> LEVEL = ScalarType.oneOf(LogLevel.class, LogLevel::name);
    private static final ScalarType<LogFormat> FORMAT = ScalarType.oneOf(LogFormat.class, LogFormat::yamlName);

    private LoggingSection() {
    }

    static LoggingConfig parse(YamlMap map, Path base) {
        return new LoggingConfig(
                map.get("level", LEVEL).orElse(DEFAULT_LEVEL),
                map.get("format", FORMAT).orElse(LogFormat.TEXT),
                map.get("path", ScalarType.path(base).where(
                        path -> Files.isRegularFile(path) && Files.isReadable(path), "must be a readable file")));
    }
}
