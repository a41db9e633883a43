package org.bufcached.config;

import java.util.Optional;

/**
 * The admin socket: a unix socket serving a small JSON API (exports,
 * connections, dirty bitmaps, reload) to its owner. Off unless configured.
 *
 * @param socket where it listens, with its mode ({@code 0600} unless set) and owner; empty when off
 */
public record AdminConfig(Optional<ListenUnix> socket) {
    public static final AdminConfig OFF = new AdminConfig(Optional.empty());
    /** Only the daemon's user may ask it anything unless the configuration says otherwise. */
    public static final int DEFAULT_MODE = 0600;
    /** Where the Debian package's configuration puts it, and where {@code bufcache admin} looks by default. */
    public static final String DEFAULT_PATH = "/run/bufcached/admin.sock";

    public boolean enabled() {
        return socket.isPresent();
    }
}
