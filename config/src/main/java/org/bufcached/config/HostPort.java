package org.bufcached.config;

import java.net.InetSocketAddress;
import java.util.regex.Pattern;

/**
 * A TCP endpoint written {@code host:port}, with IPv6 literals in brackets
 * ({@code [::1]:10809}) so the port separator is unambiguous. The host is kept
 * as text and resolved only when the daemon binds, because resolving while
 * parsing would make validation depend on the network.
 */
public record HostPort(String host, int port) {
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    public HostPort {
        boolean bracketless = host.contains(":") ? IPV6.matcher(host).matches() : HOST_NAME.matcher(host).matches();
        if (!bracketless) {
            throw new IllegalArgumentException("invalid host \"" + host + "\"");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
        }
    }

    /**
     * Parses {@code host:port} or {@code [ipv6]:port}.
     *
     * @throws IllegalArgumentException with a message fit for an operator
     */
    public static HostPort parse(String text) {
        String trimmed = text.strip();
        int colon = trimmed.lastIndexOf(':');
        String host = colon < 0 ? "" : trimmed.substring(0, colon);
        String port = trimmed.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
            if (!host.contains(":")) {
                throw new IllegalArgumentException("brackets are only for IPv6 addresses, got \"" + text + "\"");
            }
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("write IPv6 addresses in brackets, as in \"[::1]:10809\"; got \""
                    + text + "\"");
        }
        if (host.isEmpty() || !port.matches("[0-9]{1,5}")) {
            throw new IllegalArgumentException("expected host:port such as 127.0.0.1:10809 or [::1]:10809, got \""
                    + text + "\"");
        }
        try {
            return new HostPort(host, Integer.parseInt(port));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " in \"" + text + "\"", e);
        }
    }

    /** Resolves the host now; the daemon calls this when it binds. */
    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** The {@code host:port} form that {@link #parse} accepts back. */
    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
