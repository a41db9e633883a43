package org.bufcached.config;

import java.util.Locale;

/**
 * {@code io.engine}: which I/O engine the daemon runs. {@link #AUTO} takes
 * io_uring where the kernel allows it, epoll otherwise, NIO last.
 */
public enum IoEngineName {
    AUTO,
    IO_URING,
    EPOLL,
    NIO;

    /** The spelling used in YAML and on the command line. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
