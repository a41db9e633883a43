package org.bufcached.daemon;

import sun.misc.Signal;

/**
 * Signal handling. A JVM shutdown hook would run on SIGTERM too, but the process
 * would then exit 143; handling the signals directly lets a graceful stop end in
 * exit status 0, as service managers expect.
 */
final class Signals {
    private Signals() {
    }

    /** Runs {@code action} on SIGTERM and SIGINT. */
    static void onTermination(Runnable action) {
        Signal.handle(new Signal("TERM"), s -> action.run());
        Signal.handle(new Signal("INT"), s -> action.run());
    }

    /** Runs {@code action} on SIGHUP (systemctl reload); it must hand the work to another thread. */
    static void onHangup(Runnable action) {
        Signal.handle(new Signal("HUP"), s -> action.run());
    }
}
