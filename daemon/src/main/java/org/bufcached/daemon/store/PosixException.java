package org.bufcached.daemon.store;

import java.io.IOException;

/**
 * A failed C library call. It keeps the errno so that the export layer can map it
 * to an NBD error (EIO, ENOSPC, EPERM...) without parsing messages.
 */
public class PosixException extends IOException {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    /**
     * @param call    the C function that failed, e.g. {@code "pread"}
     * @param errno   the errno it left
     * @param context what it was called with, for the message (fd, offset, path...)
     */
    public PosixException(String call, int errno, String context) {
        this(call, errno, context, true);
    }

    /**
     * A failure that carries an errno but whose message says more than the call
     * did, e.g. an I/O error reported again for data an earlier call lost.
     */
    protected PosixException(String call, int errno, String message, boolean describeCall) {
        super(describeCall ? call + "(" + message + "): " + Errno.name(errno) + " (errno " + errno + ")" : message);
        this.call = call;
        this.errno = errno;
    }

    /** The C function that failed. */
    public String call() {
        return call;
    }

    /** The errno the call left, one of the {@link Errno} constants. */
    public int errno() {
        return errno;
    }

    /** The errno's symbolic name, e.g. {@code "ENOSPC"}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
