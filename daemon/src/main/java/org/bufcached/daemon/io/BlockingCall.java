package org.bufcached.daemon.io;

import org.bufcached.daemon.store.PosixException;

/**
 * A system call that no ring operation covers (mmap, lseek with SEEK_DATA): run
 * off the event loop by {@link FileIo#offload}. Its result is a count, zero or any
 * non-negative value the caller wants back; a {@link PosixException} becomes
 * {@code -errno}.
 */
@FunctionalInterface
public interface BlockingCall {
    long call() throws PosixException;
}
