package org.bufcached.daemon.systemd;

import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;

/**
 * The calls socket activation needs and the JDK lacks: which address family an
 * inherited descriptor belongs to, and switching it to non-blocking mode. Public
 * only because jnr-ffi generates its implementation in another class loader.
 */
public interface SocketCalls {
    int getsockname(int fd, @Out byte[] address, @In @Out IntByReference length);

    /** Declared with one int argument, which is how the variadic call passes it on x86_64 and aarch64 Linux. */
    int fcntl(int fd, int cmd, int arg);
}
