package org.bufcached.protocol.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/** A simple reply: error and cookie, with the data of a successful READ as content (else empty). */
public final class SimpleReply extends DefaultByteBufHolder {
    private final int error;
    private final long cookie;

    public SimpleReply(int error, long cookie, ByteBuf data) {
        super(data);
        this.error = error;
        this.cookie = cookie;
    }

    /** The error value as sent (0 on success). */
    public int error() {
        return error;
    }

    public long cookie() {
        return cookie;
    }

    @Override
    public String toString() {
        return "SimpleReply(cookie=" + Long.toHexString(cookie) + ", error=" + error + ", " + content().readableBytes()
                + " bytes)";
    }
}
