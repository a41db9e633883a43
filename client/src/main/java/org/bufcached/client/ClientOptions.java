package org.bufcached.client;

import io.netty.channel.EventLoopGroup;
import java.util.List;
import org.bufcached.protocol.Nbd;

/**
 * How to connect: whether to negotiate structured replies and extended headers,
 * which metadata contexts to select, and the event loops to run on (null: a shared
 * daemon-thread group). Extended headers are asked for first and fall back to
 * structured replies when the server does not know them; like libnbd's
 * {@code set_request_extended_headers}, {@code extendedHeaders} means nothing
 * without {@code structuredReplies}. The kernel's nbd driver, for one, understands
 * none of them nor block status, so {@code attach} turns all off.
 */
public record ClientOptions(boolean structuredReplies, boolean extendedHeaders, List<String> metaContexts,
                            EventLoopGroup group) {
    public static final ClientOptions DEFAULT = new ClientOptions(true, true, List.of(Nbd.BASE_ALLOCATION), null);

    /** Simple replies only and no metadata contexts: what old servers and the kernel driver speak. */
    public static final ClientOptions SIMPLE = new ClientOptions(false, false, List.of(), null);

    public ClientOptions withGroup(EventLoopGroup g) {
        return new ClientOptions(structuredReplies, extendedHeaders, metaContexts, g);
    }

    /** These options with extended headers asked for ({@code true}) or not: compact headers only. */
    public ClientOptions withExtendedHeaders(boolean extended) {
        return new ClientOptions(structuredReplies, extended, metaContexts, group);
    }
}
