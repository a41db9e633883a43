package org.bufcached.protocol.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * The receive buffers of one connection: the transport's usual ones, except while
 * a large WRITE payload is arriving, when the socket is read straight into the
 * payload's own buffer ({@link RequestDecoder#receiveInto()}). Such a payload
 * reaches the file with no copy in user space: the kernel copies it from the
 * socket into the payload buffer, and from there into the page cache.
 *
 * <p>Only for a decoder that sees the socket's bytes as they arrive (no TLS in
 * between): the daemon attaches one to a plaintext connection's decoder. Every
 * transport (io_uring, epoll, NIO) asks its handle for each read's buffer, on the
 * channel's event loop, and hands the filled buffer to the pipeline before it asks
 * again; the decoder recognises its own.
 *
 * <p>One per channel, set in its config before its first read (a transport makes
 * its handle once); confined to the channel's event loop.
 */
public final class PayloadReceiver implements RecvByteBufAllocator {
    private final RecvByteBufAllocator usual;
    /** The decoder whose payloads may be received in place; null before transmission and under TLS. */
    private RequestDecoder decoder;

    public PayloadReceiver(RecvByteBufAllocator usual) {
        this.usual = usual;
    }

    /** Gives {@code ch} a receiver around its current allocator; before its first read. */
    public static void install(Channel ch) {
        ch.config().setRecvByteBufAllocator(new PayloadReceiver(ch.config().getRecvByteBufAllocator()));
    }

    /** {@code ch}'s receiver, or null if it has none. */
    public static PayloadReceiver of(Channel ch) {
        RecvByteBufAllocator a = ch.config().getRecvByteBufAllocator();
        return a instanceof PayloadReceiver ? (PayloadReceiver) a : null;
    }

    /** From now on payloads of {@code d} are received in place. */
    void attach(RequestDecoder d) {
        decoder = d;
    }

    /** No longer for {@code d}; a decoder that replaced it (added before it is removed) stays. */
    void detach(RequestDecoder d) {
        if (decoder == d) {
            decoder = null;
        }
    }

    @Override
    public Handle newHandle() {
        return new ReceiveHandle((ExtendedHandle) usual.newHandle());
    }

    private final class ReceiveHandle extends DelegatingHandle implements ExtendedHandle {
        ReceiveHandle(ExtendedHandle usual) {
            super(usual);
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            RequestDecoder d = decoder;
            ByteBuf into = d != null ? d.receiveInto() : null;
            return into != null ? into : super.allocate(alloc);
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return ((ExtendedHandle) delegate()).continueReading(maybeMoreDataSupplier);
        }
    }
}
