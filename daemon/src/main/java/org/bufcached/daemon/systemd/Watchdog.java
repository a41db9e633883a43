package org.bufcached.daemon.systemd;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** {@code sd_watchdog_enabled(3)}: whether systemd expects keep-alives, and how often to send them. */
public final class Watchdog {
    private Watchdog() {
    }

    /**
     * Half of {@code WATCHDOG_USEC}, as sd_watchdog_enabled(3) advises, when it
     * is set and {@code WATCHDOG_PID} (if set) is our pid.
     */
    public static Optional<Duration> interval(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        String watchdogPid = env.get("WATCHDOG_PID");
        if (usec == null || usec.isBlank() || (watchdogPid != null && !watchdogPid.strip().equals(Long.toString(pid)))) {
            return Optional.empty();
        }
        long micros = Long.parseLong(usec.strip());
        return micros > 0 ? Optional.of(Duration.ofNanos(micros * 1000 / 2)) : Optional.empty();
    }
}
