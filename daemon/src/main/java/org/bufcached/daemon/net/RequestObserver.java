package org.bufcached.daemon.net;

import org.bufcached.protocol.NbdError;

/** Sees every answered request: the hook that request metrics hang on. */
public interface RequestObserver {
    RequestObserver NONE = (export, type, length, error, nanos) -> { };

    /**
     * Called on the event loop after the reply to a request was written.
     * {@code error} is null on success.
     */
    void completed(String export, int type, long length, NbdError error, long nanos);
}
