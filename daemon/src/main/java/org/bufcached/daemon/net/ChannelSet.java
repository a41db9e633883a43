package org.bufcached.daemon.net;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A set of connections with their requests in flight, and the one way to close
 * them: shutdown closes all of them, a reload those of one export. Channels leave
 * the set by themselves when they close.
 */
final class ChannelSet {
    /** How long a close lets clients take the replies still queued for them. */
    private static final long CLOSE_TIMEOUT_SECONDS = 10;

    private final ChannelGroup channels;
    private final AtomicLong inFlight = new AtomicLong();

    ChannelSet(String name) {
        channels = new DefaultChannelGroup(name, GlobalEventExecutor.INSTANCE);
    }

    void add(Channel channel) {
        channels.add(channel);
    }

    int size() {
        return channels.size();
    }

    /** The open channels now (a copy: channels leave the group as they close). */
    List<Channel> snapshot() {
        return new ArrayList<>(channels);
    }

    void requestStarted() {
        inFlight.incrementAndGet();
    }

    void requestFinished() {
        inFlight.decrementAndGet();
    }

    long inFlight() {
        return inFlight.get();
    }

    /**
     * Closes every connection once the replies already written have reached its
     * client, and waits for the closes; a client that reads nothing for a long time
     * is closed anyway after a bounded wait.
     */
    void closeAll() {
        List<ChannelFuture> closing = new ArrayList<>();
        for (Channel ch : channels) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            closing.add(ch.closeFuture());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLOSE_TIMEOUT_SECONDS);
        for (ChannelFuture f : closing) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !f.awaitUninterruptibly(TimeUnit.NANOSECONDS.toMillis(left))) {
                f.channel().close();
            }
        }
        channels.close().awaitUninterruptibly();
    }
}
