package org.bufcached.daemon.cache;

import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.PosixException;

/**
 * A FLUSH or FUA refused with EIO because data acknowledged earlier may not be
 * on stable storage: a write-back or a sync of the file failed, and what it may
 * have lost has not been written again and synced since.
 */
public final class DurabilityException extends PosixException {
    private static final long serialVersionUID = 1L;

    DurabilityException(String message) {
        super("fdatasync", Errno.EIO, message, false);
    }
}
