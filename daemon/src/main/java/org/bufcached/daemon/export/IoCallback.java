package org.bufcached.daemon.export;

import io.netty.buffer.ByteBuf;
import org.bufcached.protocol.NbdError;

/**
 * How a {@link BlockStore} answers one request. Exactly one of the two methods is
 * called, exactly once, on any thread: the caller moves back to its event loop
 * itself. A store that can answer at once (a cache hit) calls back before its
 * method returns.
 */
public interface IoCallback {

    /**
     * The request succeeded. {@code data} is the READ data or the BLOCK_STATUS
     * descriptors (pairs of 32-bit length and 32-bit flags), and its ownership
     * passes to the callee, who releases it; for every other command it is null.
     */
    void succeeded(ByteBuf data);

    /** The request failed with {@code error}; {@code message} is for a human. */
    void failed(NbdError error, String message);
}
