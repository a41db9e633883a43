package org.bufcached.daemon.net;

import java.util.Locale;

/**
 * Turns a failure to take a port or a socket path into the start-up error an
 * operator can act on: what could not be listened on, why in plain words, and
 * what to do about it. The JDK and Netty report errno text ("bind(..) failed:
 * Address already in use"), which is matched here rather than shown.
 */
public final class BindErrors {
    private BindErrors() {
    }

    /** An NBD listener. */
    static String explain(String what, Throwable cause) {
        return explain(what, what.startsWith("unix ") ? "--unix or listen.unix" : "--tcp or listen.tcp", cause);
    }

    /**
     * @param what      the listener, e.g. {@code tcp 127.0.0.1:10809} or {@code unix /run/bufcached/nbd.sock}
     * @param elsewhere the options that choose another address
     * @param cause     what binding threw
     */
    public static String explain(String what, String elsewhere, Throwable cause) {
        String message = rootMessage(cause).toLowerCase(Locale.ROOT);
        String where = "cannot listen on " + what + ": ";
        boolean tcp = !what.startsWith("unix ");
        if (message.contains("address already in use")) {
            return where + "address already in use (" + (tcp
                    ? "another bufcached, nbd-server or qemu-nbd? 'ss -ltnp' names it; or choose another address with "
                    + elsewhere : "another process serves this socket; stop it or choose another path with " + elsewhere)
                    + ")";
        }
        if (message.contains("permission denied") || message.contains("accessdenied")) {
            return where + "permission denied (" + (tcp
                    ? "ports below 1024 need CAP_NET_BIND_SERVICE; choose a port above 1023"
                    : "the daemon's user must be able to write the socket's directory; under systemd "
                    + "'systemd-tmpfiles --create' makes /run/bufcached") + ")";
        }
        if (message.contains("cannot assign requested address")) {
            return where + "the host is not an address of this machine (use 127.0.0.1, 0.0.0.0 or one of 'ip -brief address')";
        }
        if (message.contains("unresolved") || message.contains("unknownhost")) {
            return where + "the host name does not resolve (give an IP address)";
        }
        return where + rootMessage(cause);
    }

    /** The innermost message: Netty and the JDK wrap the errno text in layers. */
    private static String rootMessage(Throwable t) {
        String message = String.valueOf(t.getMessage());
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null) {
                message = c.getMessage();
            }
            if (c instanceof java.nio.file.AccessDeniedException) {
                return "permission denied: " + c.getMessage();
            }
        }
        return message;
    }
}
