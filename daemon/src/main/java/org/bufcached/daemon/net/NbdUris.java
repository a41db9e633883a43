package org.bufcached.daemon.net;

import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The NBD URIs (as in the NBD URI specification) under which clients reach an
 * export through each listener: {@code nbd://127.0.0.1:10809/disk} for TCP and
 * {@code nbd+unix:///disk?socket=/run/bufcached/nbd.sock} for a Unix socket, or
 * {@code nbds://} and {@code nbds+unix://} for an export that requires TLS. A
 * wildcard TCP address (0.0.0.0, ::) is shown with this machine's host name.
 */
public final class NbdUris {
    private NbdUris() {
    }

    public static List<String> of(String export, List<SocketAddress> listeners, boolean tls) {
        String scheme = tls ? "nbds" : "nbd";
        List<String> uris = new ArrayList<>(listeners.size());
        for (SocketAddress a : listeners) {
            if (a instanceof InetSocketAddress) {
                InetSocketAddress tcp = (InetSocketAddress) a;
                uris.add(scheme + "://" + host(tcp.getAddress()) + ":" + tcp.getPort() + "/" + encode(export, false));
            } else if (a instanceof DomainSocketAddress) {
                uris.add(scheme + "+unix:///" + encode(export, false) + "?socket="
                        + encode(((DomainSocketAddress) a).path(), true));
            }
        }
        return uris;
    }

    private static String host(InetAddress address) {
        if (address.isAnyLocalAddress()) {
            return hostName();
        }
        String literal = address.getHostAddress();
        if (address instanceof Inet6Address) {
            int scope = literal.indexOf('%');
            return "[" + (scope < 0 ? literal : literal.substring(0, scope)) + "]";
        }
        return literal;
    }

    /** The kernel's host name, read without a DNS lookup (which could hang the start). */
    private static String hostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** Percent-encodes all but unreserved characters (and '/' in a socket path, which the query allows). */
    static String encode(String s, boolean keepSlash) {
        StringBuilder b = new StringBuilder();
        for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0
                    || (keepSlash && c == '/')) {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit((c >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return b.toString();
    }
}
