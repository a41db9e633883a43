package org.bufcached.daemon.systemd;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What systemd handed the process: the notify socket, sockets to serve (socket
 * activation) and the watchdog interval. Tests build one by hand.
 */
public record Systemd(Notifier notifier, List<InheritedSocket> sockets, Optional<Duration> watchdog) {
    public Systemd {
        sockets = List.copyOf(sockets);
    }

    /** Not run by systemd: nothing to notify, nothing inherited. */
    public static Systemd none() {
        return new Systemd(Notifier.NONE, List.of(), Optional.empty());
    }

    /** Reads the variables systemd sets: NOTIFY_SOCKET, LISTEN_*, WATCHDOG_*. */
    public static Systemd fromEnvironment(Map<String, String> env, long pid) {
        return new Systemd(Notifier.fromEnvironment(env), ListenFds.fromEnvironment(env, pid),
                Watchdog.interval(env, pid));
    }

    /** The real process environment. */
    public static Systemd current() {
        return fromEnvironment(System.getenv(), ProcessHandle.current().pid());
    }
}
