package org.bufcached.daemon.cache;

import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoCompletion;

/**
 * A change of a file's range that does not go through buffers (TRIM's hole,
 * WRITE_ZEROES' fallocate or written zeroes): what to do is the caller's (the NBD
 * layer decides the fallocate modes and fallbacks), when to do it is the cache's
 * ({@link ChangeOp}: after the range's buffers are invalidated).
 */
@FunctionalInterface
public interface FileChange {
    /**
     * Changes {@code [offset, offset + length)} of the file open as {@code fd}
     * through {@code io}, then calls {@code done} once, on the loop, with 0 or
     * {@code -errno}.
     */
    void apply(FileIo io, int fd, long offset, long length, IoCompletion done);
}
