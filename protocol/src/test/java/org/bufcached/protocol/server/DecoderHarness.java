package org.bufcached.protocol.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * An {@link EmbeddedChannel} around one decoder, with a handler behind it that
 * records what reaches {@code exceptionCaught}.
 */
final class DecoderHarness {
    private static final Field CUMULATION;

    static {
        try {
            CUMULATION = ByteToMessageDecoder.class.getDeclaredField("cumulation");
            CUMULATION.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final ChannelHandler decoder;
    final EmbeddedChannel channel;
    final List<Throwable> exceptions = new ArrayList<>();

    DecoderHarness(ChannelHandler decoder) {
        this.decoder = decoder;
        this.channel = new EmbeddedChannel(decoder, new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                exceptions.add(cause);
            }
        });
    }

    void write(ByteBuf... bufs) {
        for (ByteBuf b : bufs) {
            channel.writeInbound(b);
        }
    }

    /** Feeds {@code bytes} one byte per read. */
    void writeByteByByte(ByteBuf bytes) {
        while (bytes.isReadable()) {
            channel.writeInbound(bytes.readRetainedSlice(1));
        }
        bytes.release();
    }

    <T> T read(Class<T> type) {
        Object msg = channel.readInbound();
        assertThat(msg).isInstanceOf(type);
        return type.cast(msg);
    }

    void assertNothingRead() {
        assertThat((Object) channel.readInbound()).isNull();
    }

    /** Bytes a {@link ByteToMessageDecoder} holds back between reads (its cumulation buffer). */
    int buffered() {
        try {
            ByteBuf c = (ByteBuf) CUMULATION.get(decoder);
            return c == null ? 0 : c.readableBytes();
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    /** Closes the channel, which makes the decoder look at what is left over. */
    void close() {
        channel.close().syncUninterruptibly();
    }
}
