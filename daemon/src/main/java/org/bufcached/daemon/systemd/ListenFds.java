package org.bufcached.daemon.systemd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jnr.ffi.LibraryLoader;
import jnr.ffi.byref.IntByReference;

/**
 * The sockets systemd passed by socket activation, as {@code sd_listen_fds(3)}
 * defines them: {@code LISTEN_FDS} descriptors from 3 up, meant for us only if
 * {@code LISTEN_PID} is our pid, named by {@code LISTEN_FDNAMES}
 * (colon-separated). The kind of each is read from the socket itself, so the
 * socket unit needs no naming convention.
 */
public final class ListenFds {
    /** {@code SD_LISTEN_FDS_START}. */
    static final int FIRST_FD = 3;
    private static final int AF_UNIX = 1;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    /** {@code sizeof(struct sockaddr_storage)}. */
    private static final int SOCKADDR_STORAGE = 128;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int O_NONBLOCK = 0x800;

    private ListenFds() {
    }

    /**
     * The inherited sockets; empty when the environment passes none or they are
     * meant for another process (a parent that did not clear the variables).
     *
     * @throws IllegalStateException when a descriptor is not a TCP or Unix socket
     */
    public static List<InheritedSocket> fromEnvironment(Map<String, String> env, long pid) {
        String listenPid = env.get("LISTEN_PID");
        String listenFds = env.get("LISTEN_FDS");
        if (listenPid == null || listenFds == null || !listenPid.strip().equals(Long.toString(pid))) {
            return List.of();
        }
        int count = Integer.parseInt(listenFds.strip());
        String[] names = env.getOrDefault("LISTEN_FDNAMES", "").split(":", -1);
        List<InheritedSocket> sockets = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int fd = FIRST_FD + i;
            String name = i < names.length && !names[i].isEmpty() ? names[i] : "unknown";
            String unixPath = unixPath(fd, name);
            makeNonBlocking(fd, name);
            sockets.add(new InheritedSocket(fd, name, unixPath != null, unixPath == null ? "" : unixPath));
        }
        return sockets;
    }

    /**
     * The path of a Unix socket (for the URIs in the log), or null for a TCP one;
     * an abstract or unnamed Unix socket has an empty path.
     */
    static String unixPath(int fd, String name) {
        byte[] address = new byte[SOCKADDR_STORAGE];
        IntByReference length = new IntByReference(address.length);
        if (Native.CALLS.getsockname(fd, address, length) != 0) {
            throw new IllegalStateException("inherited descriptor " + fd + " (" + name + ") is not a socket");
        }
        // sa_family is the first field of every sockaddr, a native-endian 16-bit value.
        int family = ByteBuffer.wrap(address).order(ByteOrder.nativeOrder()).getShort(0);
        switch (family) {
            case AF_UNIX:
                return sunPath(address, Math.min(length.intValue(), address.length));
            case AF_INET:
            case AF_INET6:
                return null;
            default:
                throw new IllegalStateException("inherited socket " + fd + " (" + name + ") has address family "
                        + family + "; only TCP and Unix sockets are served");
        }
    }

    /** {@code sun_path}: after the 2-byte family, up to the first NUL or the end of the address. */
    private static String sunPath(byte[] address, int length) {
        int end = 2;
        while (end < length && address[end] != 0) {
            end++;
        }
        return end == 2 ? "" : new String(address, 2, end - 2, java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * systemd passes blocking sockets (unless the unit says NonBlocking=yes), and
     * a blocking accept would stall the event loop that serves the listener.
     */
    static void makeNonBlocking(int fd, String name) {
        int flags = Native.CALLS.fcntl(fd, F_GETFL, 0);
        if (flags < 0 || Native.CALLS.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
            throw new IllegalStateException("cannot make inherited socket " + fd + " (" + name + ") non-blocking");
        }
    }

    /** Loaded on first use, so a process without socket activation never loads the binding. */
    private static final class Native {
        static final SocketCalls CALLS = LibraryLoader.create(SocketCalls.class).load("c");
    }
}
