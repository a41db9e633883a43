package org.bufcached.daemon.systemd;

/**
 * A listening socket passed by systemd (socket activation).
 *
 * @param fd       the descriptor number, from 3 up
 * @param name     its {@code FileDescriptorName=} from the socket unit, or "unknown"
 * @param unix     whether it is a Unix domain socket (else TCP)
 * @param unixPath the Unix socket's path as the kernel reports it, for the URIs in
 *                 the log; empty for TCP and for abstract or unnamed sockets
 */
public record InheritedSocket(int fd, String name, boolean unix, String unixPath) {
    public InheritedSocket(int fd, String name, boolean unix) {
        this(fd, name, unix, "");
    }
}
