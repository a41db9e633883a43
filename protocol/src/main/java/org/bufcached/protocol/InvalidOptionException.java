package org.bufcached.protocol;

/** Option data that does not parse: answered with NBD_REP_ERR_INVALID, not a disconnect. */
public class InvalidOptionException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidOptionException(String message) {
        super(message);
    }
}
