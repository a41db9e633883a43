package org.bufcached.client.kernel;

import java.io.IOException;

/**
 * The system calls of {@link NbdDevice}, behind an interface so that tests can
 * record the sequence against a fake device. Implementations turn failures into
 * exceptions whose message says what to do about them.
 */
public interface Ioctls {
    /** Opens a device read-write. */
    int open(String path) throws IOException;

    /** ioctl(fd, request, arg); {@code name} is the request's name for messages. */
    void ioctl(int fd, String name, long request, long arg) throws IOException;

    void close(int fd);
}
