package org.bufcached.protocol.server;

import io.netty.channel.Channel;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;

/**
 * The one switch that stops reading from a connection ({@code autoRead}), shared
 * by everything that may need reading stopped for its own reason: the request
 * decoder waiting for {@link PayloadMemory}, the transmission handler at its
 * in-flight limit or after NBD_CMD_DISC. Reading resumes only when every holder
 * has let go; with one flag per holder, one would resume what another stopped.
 *
 * <p>Used on the channel's event loop only, so the count needs no lock.
 */
public final class ReadGate {
    private static final AttributeKey<ReadGate> KEY = AttributeKey.valueOf(ReadGate.class, "gate");

    private final Channel channel;
    /** Holders now; reading is stopped while it is above zero. */
    private int holds;

    private ReadGate(Channel channel) {
        this.channel = channel;
    }

    /** The gate of {@code channel}, made on first use. */
    public static ReadGate of(Channel channel) {
        Attribute<ReadGate> attribute = channel.attr(KEY);
        ReadGate gate = attribute.get();
        if (gate == null) {
            gate = new ReadGate(channel);
            attribute.set(gate);
        }
        return gate;
    }

    /** Stops reading until a matching {@link #open()}. */
    public void close() {
        if (holds++ == 0) {
            channel.config().setAutoRead(false);
        }
    }

    /** Lets go of one {@link #close()}; reading resumes when none is left. */
    public void open() {
        if (holds == 0) {
            throw new IllegalStateException("read gate opened more often than closed");
        }
        if (--holds == 0) {
            channel.config().setAutoRead(true);
        }
    }

    public boolean isClosed() {
        return holds > 0;
    }
}
