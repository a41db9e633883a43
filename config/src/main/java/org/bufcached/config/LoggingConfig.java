package org.bufcached.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Logging set-up: a root level and a format (text or JSON), or a complete
 * logback.xml that replaces the built-in configuration when present.
 */
public record LoggingConfig(LogLevel level, LogFormat format, Optional<Path> path) {
    /** Text lines, the shipped set-up. */
    public LoggingConfig(LogLevel level, Optional<Path> path) {
        this(level, LogFormat.TEXT, path);
    }
}
