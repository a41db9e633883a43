package org.bufcached.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Reads {@code admin}: the admin socket's {@code path}, {@code mode} (default
 * {@code 0600}) and {@code owner}, as a {@code listen.unix} map. Without the
 * section, or without a path, there is no admin socket.
 */
final class AdminSection {
    static final List<String> KEYS = ListenSection.UNIX_KEYS;

    private AdminSection() {
    }

    static AdminConfig parse(YamlMap map, Path base) {
        if (!map.has("path") && !map.has("mode") && !map.has("owner")) {
            return AdminConfig.OFF;
        }
        Optional<ListenUnix> socket = ListenSection.socket(map, base).map(unix -> unix.mode().isPresent() ? unix
                : new ListenUnix(unix.path(), OptionalInt.of(AdminConfig.DEFAULT_MODE), unix.user(), unix.group()));
        return new AdminConfig(socket);
    }
}
