package org.bufcached.config;

import java.util.List;

/** Where the daemon accepts NBD connections: TCP endpoints and unix-domain sockets. */
public record ListenConfig(List<HostPort> tcp, List<ListenUnix> unix) {
    public ListenConfig {
        tcp = List.copyOf(tcp);
        unix = List.copyOf(unix);
    }
}
