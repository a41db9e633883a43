package org.bufcached.daemon.net;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The daemon's open client connections, for shutdown (drain, then close) and for
 * counting. Channels leave the group by themselves when they close.
 */
public final class Connections {
    private final ChannelGroup channels = new DefaultChannelGroup("nbd-clients", GlobalEventExecutor.INSTANCE);
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLong opened = new AtomicLong();
    private volatile boolean shuttingDown;

    void add(Channel channel) {
        opened.incrementAndGet();
        channels.add(channel);
    }

    void requestStarted() {
        inFlight.incrementAndGet();
    }

    void requestFinished() {
        inFlight.decrementAndGet();
    }

    /** Requests accepted and not yet answered, over all connections. */
    public long inFlight() {
        return inFlight.get();
    }

    public int open() {
        return channels.size();
    }

    public long openedTotal() {
        return opened.get();
    }

    public boolean shuttingDown() {
        return shuttingDown;
    }

    /** From now on new requests are refused with NBD_ESHUTDOWN and options with NBD_REP_ERR_SHUTDOWN. */
    public void beginShutdown() {
        shuttingDown = true;
    }

    /** Closes every connection and waits for the closes to complete. */
    public void closeAll() {
        channels.close().awaitUninterruptibly();
    }
}
