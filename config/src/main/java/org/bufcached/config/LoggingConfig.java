package org.bufcached.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Logging set-up: a root level, or a complete logback.xml that replaces the
 * built-in configuration when present.
 */
public record LoggingConfig(LogLevel level, Optional<Path> path) {
}
