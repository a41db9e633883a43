package org.bufcached.protocol.client;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import org.bufcached.protocol.ClientFlags;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.OptionRequest;

/**
 * Client side of the fixed newstyle handshake, outbound: the client flags that
 * answer the greeting, then options (IHAVEOPT, option, length, data). The inverse
 * of the server's {@link org.bufcached.protocol.server.HandshakeDecoder}.
 */
@ChannelHandler.Sharable
public final class HandshakeClientEncoder extends MessageToByteEncoder<Object> {
    public static final HandshakeClientEncoder INSTANCE = new HandshakeClientEncoder();

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof ClientFlags || msg instanceof OptionRequest;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, ByteBuf out) {
        if (msg instanceof ClientFlags) {
            out.writeInt(((ClientFlags) msg).flags());
            return;
        }
        OptionRequest o = (OptionRequest) msg;
        ByteBuf data = o.content();
        out.writeLong(Nbd.IHAVEOPT).writeInt(o.option()).writeInt(data.readableBytes())
                .writeBytes(data, data.readerIndex(), data.readableBytes());
    }
}
