package org.bufcached.daemon.metrics;

import java.util.List;

/**
 * What {@code /readyz} reports: the daemon is ready once its listeners are bound
 * and its exports open, and not while it stops; an export is not ready while data
 * acknowledged on it is not proven durable after an I/O error (FLUSH answers EIO).
 */
@FunctionalInterface
public interface Readiness {
    /**
     * Why the daemon, or the one export named {@code export} when it is not null,
     * is not ready: one line per reason, empty when ready, null for an export that
     * does not exist.
     */
    List<String> notReady(String export);
}
