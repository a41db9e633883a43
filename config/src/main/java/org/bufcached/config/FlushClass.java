package org.bufcached.config;

import java.util.Locale;

/**
 * Which flusher writes an export's dirty buffers back. Exports on slow stores
 * (network filesystems) are {@link #HEAVY} so that {@code buf_daemon_hw}
 * flushes them and a slow store never holds up a fast one.
 */
public enum FlushClass {
    LIGHT,
    HEAVY;

    /** The spelling used in YAML. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
