package org.bufcached.daemon.systemd;

/**
 * A listening socket passed by systemd (socket activation).
 *
 * @param fd   the descriptor number, from 3 up
 * @param name its {@code FileDescriptorName=} from the socket unit, or "unknown"
 * @param unix whether it is a Unix domain socket (else TCP)
 */
public record InheritedSocket(int fd, String name, boolean unix) {
}
