package org.bufcached.daemon.cache;

/** An operation met its file closed (the export is being removed, or the daemon stops). */
public final class CacheClosedException extends Exception {
    private static final long serialVersionUID = 1L;

    static final CacheClosedException INSTANCE = new CacheClosedException();

    private CacheClosedException() {
        super("the export was closed", null, false, false);
    }
}
