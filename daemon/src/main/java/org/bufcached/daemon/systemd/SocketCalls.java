package org.bufcached.daemon.systemd;

import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;

/**
 * The one socket call socket activation needs and the JDK lacks: which address
 * family an inherited descriptor belongs to. Public only because jnr-ffi
 * generates its implementation in another class loader.
 */
public interface SocketCalls {
    int getsockname(int fd, @Out byte[] address, @In @Out IntByReference length);
}
