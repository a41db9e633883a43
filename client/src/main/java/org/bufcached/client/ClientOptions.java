package org.bufcached.client;

import io.netty.channel.EventLoopGroup;
import java.util.List;

/**
 * How to connect: whether to negotiate structured replies, which metadata contexts
 * to select, and the event loops to run on (null: a shared daemon-thread group).
 * The kernel's nbd driver, for one, understands neither structured replies nor
 * block status, so {@code attach} turns both off.
 */
public record ClientOptions(boolean structuredReplies, List<String> metaContexts, EventLoopGroup group) {
    public static final ClientOptions DEFAULT = new ClientOptions(true, List.of(org.bufcached.protocol.Nbd.BASE_ALLOCATION), null);

    /** Simple replies only and no metadata contexts: what old servers and the kernel driver speak. */
    public static final ClientOptions SIMPLE = new ClientOptions(false, List.of(), null);

    public ClientOptions withGroup(EventLoopGroup g) {
        return new ClientOptions(structuredReplies, metaContexts, g);
    }
}
