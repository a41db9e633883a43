package org.bufcached.client;

import java.io.IOException;

/** Base of the client's errors: a refused option, a failed command, a lost connection. */
public class NbdException extends IOException {
    private static final long serialVersionUID = 1L;

    public NbdException(String message) {
        super(message);
    }

    public NbdException(String message, Throwable cause) {
        super(message, cause);
    }
}
