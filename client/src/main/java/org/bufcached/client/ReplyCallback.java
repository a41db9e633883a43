package org.bufcached.client;

/**
 * Receives the outcome of one command, on the connection's event loop. For a READ
 * the result is a {@link io.netty.buffer.ByteBuf} that the callback must release;
 * for BLOCK_STATUS a {@code List<Extent>}; otherwise null. Hot loops (bench, copy)
 * implement this directly and reuse the instance, so a request allocates no future.
 */
@FunctionalInterface
public interface ReplyCallback<T> {
    void completed(T result, Throwable error);
}
