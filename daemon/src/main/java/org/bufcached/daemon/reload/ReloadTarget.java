package org.bufcached.daemon.reload;

import java.io.IOException;
import org.bufcached.config.BufcachedConfig;
import org.bufcached.config.ConfigDiff;

/** The running daemon as a reload sees it. */
public interface ReloadTarget {
    /** The configuration now in force, to compare a newly loaded one with. */
    BufcachedConfig running();

    /**
     * Applies every change that can be made live and makes {@code loaded} the
     * running configuration; called for an empty {@code diff} too, since files
     * the configuration names (TLS credentials) are re-read on every reload.
     *
     * @throws IOException when a new export cannot be opened; then nothing has changed
     */
    void apply(ConfigDiff diff, BufcachedConfig loaded) throws IOException;

    /** The one-line summary for systemd's STATUS=. */
    String status();
}
