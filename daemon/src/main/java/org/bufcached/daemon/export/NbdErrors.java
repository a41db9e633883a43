package org.bufcached.daemon.export;

import org.bufcached.daemon.cache.CacheClosedException;
import org.bufcached.daemon.store.PosixException;
import org.bufcached.protocol.NbdError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one mapping from what went wrong to the NBD error a client gets: a failed
 * system call by its errno ({@link NbdError#fromErrno}), a closed export as
 * ESHUTDOWN, and anything else, a bug, as EIO with a log line, so that every
 * request is answered even when the daemon is wrong.
 */
public final class NbdErrors {
    private static final Logger LOG = LoggerFactory.getLogger(NbdErrors.class);

    private NbdErrors() {
    }

    public static NbdError of(Throwable cause) {
        if (cause instanceof PosixException) {
            return NbdError.fromErrno(((PosixException) cause).errno());
        }
        if (cause instanceof CacheClosedException) {
            return NbdError.ESHUTDOWN;
        }
        LOG.error("request failed on a bug; answering EIO", cause);
        return NbdError.EIO;
    }

    /** The message that goes with the error in a structured reply. */
    public static String message(Throwable cause) {
        if (cause instanceof PosixException || cause instanceof CacheClosedException) {
            return cause.getMessage();
        }
        return "internal error: " + cause;
    }
}
