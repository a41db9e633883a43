package org.bufcached.daemon.net;

import io.netty.channel.Channel;

/**
 * The connections in the transmission phase on one export's store, so that a
 * reload can drain exactly those: refuse their new requests, wait for the ones in
 * flight, then close them. Keyed by store rather than by name because a reload
 * may put a new export object (new allow list) over the same store, or a new
 * store under the same name.
 */
public final class ExportConnections {
    private final ChannelSet members = new ChannelSet("nbd-export");
    private volatile boolean draining;

    ExportConnections() {
    }

    /** Joins a channel; it leaves the group by itself when it closes. */
    void add(Channel channel) {
        members.add(channel);
    }

    int size() {
        return members.size();
    }

    void requestStarted() {
        members.requestStarted();
    }

    void requestFinished() {
        members.requestFinished();
    }

    /** Requests accepted on these connections and not yet answered. */
    public long inFlight() {
        return members.inFlight();
    }

    public int open() {
        return members.size();
    }

    /** From now on new requests on these connections are refused with NBD_ESHUTDOWN, and none can join. */
    public void beginDrain() {
        draining = true;
    }

    public boolean draining() {
        return draining;
    }

    /** Closes every connection after its queued replies, and waits for the closes to complete. */
    public void closeAll() {
        members.closeAll();
    }
}
