package org.bufcached.client;

import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * An NBD URI as in the NBD URI specification: {@code nbd://host[:port]/export} over
 * TCP and {@code nbd+unix:///export?socket=PATH} over a Unix socket. An empty
 * export path means the default export ("").
 */
public record NbdUri(String host, int port, String socketPath, String exportName) {
    public static final int DEFAULT_PORT = 10809;
    /** The Unix socket of an installed bufcached (bufcached.socket and the shipped configuration). */
    public static final String DEFAULT_SOCKET = "/run/bufcached/nbd.sock";
    /** The export "" over {@link #DEFAULT_SOCKET}: the server's default export. */
    public static final String DEFAULT = "nbd+unix:///?socket=" + DEFAULT_SOCKET;
    /** The URI forms, for error messages. */
    public static final String FORMS = "nbd://HOST[:PORT]/EXPORT or nbd+unix:///EXPORT?socket=PATH";

    public static NbdUri tcp(String host, int port, String exportName) {
        return new NbdUri(host, port, null, exportName);
    }

    public static NbdUri unix(String socketPath, String exportName) {
        return new NbdUri(null, -1, socketPath, exportName);
    }

    /** True for strings that look like an NBD URI rather than a file name. */
    public static boolean isUri(String s) {
        return s.startsWith("nbd://") || s.startsWith("nbd+unix://");
    }

    public static NbdUri parse(String s) {
        URI uri;
        try {
            uri = new URI(s);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("malformed NBD URI '" + s + "': " + lowerFirst(e.getReason())
                    + " (an NBD URI is " + FORMS + ")");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String export = URLDecoder.decode(path.startsWith("/") ? path.substring(1) : path, StandardCharsets.UTF_8);
        if ("nbd".equals(uri.getScheme())) {
            if (uri.getHost() == null) {
                throw new IllegalArgumentException("NBD URI '" + s + "' has no host (expected " + FORMS + ")");
            }
            return tcp(uri.getHost(), uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort(), export);
        }
        if ("nbd+unix".equals(uri.getScheme())) {
            String socket = queryParameter(uri, "socket");
            if (socket == null) {
                throw new IllegalArgumentException("NBD URI '" + s + "' needs ?socket=PATH, e.g. nbd+unix:///"
                        + export + "?socket=" + DEFAULT_SOCKET);
            }
            return unix(socket, export);
        }
        throw new IllegalArgumentException("'" + s + "' is not an NBD URI (expected " + FORMS + ")");
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    private static String queryParameter(URI uri, String name) {
        String query = uri.getRawQuery();
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    public boolean isUnix() {
        return socketPath != null;
    }

    public SocketAddress address() {
        return isUnix() ? new DomainSocketAddress(socketPath) : new InetSocketAddress(host, port);
    }

    /** The same server with another export. */
    public NbdUri withExport(String name) {
        return new NbdUri(host, port, socketPath, name);
    }

    @Override
    public String toString() {
        String export = encodePath(exportName);
        return isUnix() ? "nbd+unix:///" + export + "?socket=" + socketPath
                : "nbd://" + (host.contains(":") ? "[" + host + "]" : host) + (port == DEFAULT_PORT ? "" : ":" + port) + "/" + export;
    }

    /** Percent-encodes an export name for the path of a URI. */
    private static String encodePath(String s) {
        StringBuilder b = new StringBuilder();
        for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~/".indexOf(c) >= 0) {
                b.append((char) c);
            } else {
                b.append('%').append(String.format("%02X", c & 0xff));
            }
        }
        return b.toString();
    }
}
