package org.bufcached.daemon.cache;

import io.netty.buffer.ByteBuf;

/**
 * How the cache answers one operation. Exactly one of {@link #done} and
 * {@link #failed} is called, exactly once, on any thread; the callee moves back to
 * its own loop itself.
 */
public interface CacheCallback {

    /** Success; {@code data} is a read's data (the callee releases it), else null. */
    void done(ByteBuf data);

    /**
     * Failure: a {@link org.bufcached.daemon.store.PosixException} with the errno of
     * a failed call (or a {@link DurabilityException}), a {@link CacheClosedException}
     * when the file was closed under the operation, or anything else for a bug.
     */
    void failed(Throwable cause);

    /** The operation now waits for {@code what} (a buffer lock, the disk...): for the stuck-request report. */
    default void waiting(String what) {
    }
}
