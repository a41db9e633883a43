package org.bufcached.daemon.io;

/**
 * What happens when a file operation of a {@link FileIo} has finished: the
 * seed's {@code biodone}. It runs on the event loop that submitted the operation,
 * never inside the submitting call, with the system call's result: a count or
 * zero on success, {@code -errno} on failure.
 *
 * <p>An implementation must not throw: whatever goes wrong in it is its own
 * request's failure to report (the engine only logs what escapes).
 */
@FunctionalInterface
public interface IoCompletion {
    void complete(long result);
}
