package org.bufcached.daemon.net;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The connections in the transmission phase on one export's store, so that a
 * reload can drain exactly those: refuse their new requests, wait for the ones in
 * flight, then close them. Keyed by store rather than by name because a reload
 * may put a new export object (new allow list) over the same store, or a new
 * store under the same name.
 */
public final class ExportConnections {
    private final ChannelGroup channels = new DefaultChannelGroup("nbd-export", GlobalEventExecutor.INSTANCE);
    private final AtomicLong inFlight = new AtomicLong();
    private volatile boolean draining;

    ExportConnections() {
    }

    /** Joins a channel; it leaves the group by itself when it closes. */
    void add(Channel channel) {
        channels.add(channel);
    }

    int size() {
        return channels.size();
    }

    void requestStarted() {
        inFlight.incrementAndGet();
    }

    void requestFinished() {
        inFlight.decrementAndGet();
    }

    /** Requests accepted on these connections and not yet answered. */
    public long inFlight() {
        return inFlight.get();
    }

    public int open() {
        return channels.size();
    }

    /** From now on new requests on these connections are refused with NBD_ESHUTDOWN, and none can join. */
    public void beginDrain() {
        draining = true;
    }

    public boolean draining() {
        return draining;
    }

    /** Closes every connection and waits for the closes to complete. */
    public void closeAll() {
        channels.close().awaitUninterruptibly();
    }
}
