package org.bufcached.client;

import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An NBD URI as in the NBD URI specification: {@code nbd://host[:port]/export} over
 * TCP and {@code nbd+unix:///export?socket=PATH} over a Unix socket; an empty
 * export path means the default export (""). {@code nbds://} and
 * {@code nbds+unix://} require TLS, with libnbd's query parameters
 * {@code tls-certificates=DIR}, {@code tls-psk-file=FILE} (the username is the
 * URI's user part) and {@code tls-verify-peer=false}.
 *
 * @param tls empty for a plaintext connection
 */
public record NbdUri(String host, int port, String socketPath, String exportName, Optional<TlsOptions> tls) {
    public static final int DEFAULT_PORT = 10809;
    /** The Unix socket of an installed bufcached (bufcached.socket and the shipped configuration). */
    public static final String DEFAULT_SOCKET = "/run/bufcached/nbd.sock";
    /** The export "" over {@link #DEFAULT_SOCKET}: the server's default export. */
    public static final String DEFAULT = "nbd+unix:///?socket=" + DEFAULT_SOCKET;
    /** The URI forms, for error messages. */
    public static final String FORMS = "nbd[s]://HOST[:PORT]/EXPORT or nbd[s]+unix:///EXPORT?socket=PATH";

    public static NbdUri tcp(String host, int port, String exportName) {
        return new NbdUri(host, port, null, exportName, Optional.empty());
    }

    public static NbdUri unix(String socketPath, String exportName) {
        return new NbdUri(null, -1, socketPath, exportName, Optional.empty());
    }

    /** True for strings that look like an NBD URI rather than a file name. */
    public static boolean isUri(String s) {
        return s.startsWith("nbd://") || s.startsWith("nbd+unix://") || s.startsWith("nbds://")
                || s.startsWith("nbds+unix://");
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
        String scheme = String.valueOf(uri.getScheme());
        boolean secure = scheme.startsWith("nbds");
        Map<String, String> query = query(uri);
        Optional<TlsOptions> tls = secure ? Optional.of(tls(s, uri, query)) : Optional.empty();
        if (!secure && query.keySet().stream().anyMatch(key -> key.startsWith("tls-"))) {
            throw new IllegalArgumentException("NBD URI " + s + " has TLS parameters but no TLS: use nbds:// or nbds+unix://");
        }
        if (scheme.equals("nbd") || scheme.equals("nbds")) {
            if (uri.getHost() == null) {
                throw new IllegalArgumentException("NBD URI '" + s + "' has no host (expected " + FORMS + ")");
            }
            return new NbdUri(uri.getHost(), uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort(), null, export, tls);
        }
        if (scheme.equals("nbd+unix") || scheme.equals("nbds+unix")) {
            String socket = query.get("socket");
            if (socket == null) {
                throw new IllegalArgumentException("NBD URI '" + s + "' needs ?socket=PATH, e.g. nbd+unix:///"
                        + export + "?socket=" + DEFAULT_SOCKET);
            }
            return new NbdUri(null, -1, socket, export, tls);
        }
        throw new IllegalArgumentException("'" + s + "' is not an NBD URI (expected " + FORMS + ")");
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    private static TlsOptions tls(String s, URI uri, Map<String, String> query) {
        TlsOptions tls = TlsOptions.DEFAULT;
        // java.net.URI leaves the user part out when the host is empty (nbds+unix://alice@/disk).
        String authority = uri.getRawAuthority();
        if (authority != null && authority.contains("@")) {
            tls = tls.withUsername(URLDecoder.decode(authority.substring(0, authority.lastIndexOf('@')),
                    StandardCharsets.UTF_8));
        }
        if (query.containsKey("tls-certificates")) {
            tls = tls.withCertificates(Path.of(query.get("tls-certificates")));
        }
        if (query.containsKey("tls-psk-file")) {
            tls = tls.withPskFile(Path.of(query.get("tls-psk-file")));
        }
        String verify = query.get("tls-verify-peer");
        if (verify != null) {
            if (!verify.equals("true") && !verify.equals("false")) {
                throw new IllegalArgumentException("NBD URI " + s + ": tls-verify-peer must be true or false");
            }
            tls = tls.withVerifyPeer(Boolean.parseBoolean(verify));
        }
        return tls;
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> parameters = new LinkedHashMap<>();
        String query = uri.getRawQuery();
        if (query == null) {
            return parameters;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                parameters.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return parameters;
    }

    public boolean isUnix() {
        return socketPath != null;
    }

    public boolean isTls() {
        return tls.isPresent();
    }

    public SocketAddress address() {
        return isUnix() ? new DomainSocketAddress(socketPath) : new InetSocketAddress(host, port);
    }

    /** The same server with another export. */
    public NbdUri withExport(String name) {
        return new NbdUri(host, port, socketPath, name, tls);
    }

    /** The same server and export over TLS with {@code options}. */
    public NbdUri withTls(TlsOptions options) {
        return new NbdUri(host, port, socketPath, exportName, Optional.of(options));
    }

    @Override
    public String toString() {
        String export = encodePath(exportName);
        String scheme = isTls() ? "nbds" : "nbd";
        String user = tls.flatMap(TlsOptions::username).map(u -> encodePath(u) + "@").orElse("");
        StringBuilder query = new StringBuilder();
        if (isUnix()) {
            query.append("&socket=").append(socketPath);
        }
        tls.ifPresent(t -> {
            t.certificates().ifPresent(dir -> query.append("&tls-certificates=").append(dir));
            t.pskFile().ifPresent(file -> query.append("&tls-psk-file=").append(file));
            if (!t.verifyPeer()) {
                query.append("&tls-verify-peer=false");
            }
        });
        String q = query.length() == 0 ? "" : "?" + query.substring(1);
        return isUnix() ? scheme + "+unix://" + user + "/" + export + q
                : scheme + "://" + user + (host.contains(":") ? "[" + host + "]" : host)
                        + (port == DEFAULT_PORT ? "" : ":" + port) + "/" + export + q;
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
