package org.bufcached.protocol.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import org.bufcached.protocol.ExportNameReply;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.OptionReply;
import org.bufcached.protocol.ServerGreeting;

/** Server side of the handshake, outbound: greeting, option replies, export-name reply. */
@ChannelHandler.Sharable
public final class HandshakeEncoder extends MessageToByteEncoder<Object> {
    public static final HandshakeEncoder INSTANCE = new HandshakeEncoder();

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof ServerGreeting || msg instanceof OptionReply || msg instanceof ExportNameReply;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, ByteBuf out) {
        if (msg instanceof OptionReply) {
            OptionReply r = (OptionReply) msg;
            ByteBuf data = r.content();
            out.writeLong(Nbd.NBD_REP_MAGIC).writeInt(r.option()).writeInt(r.type())
                    .writeInt(data.readableBytes()).writeBytes(data, data.readerIndex(), data.readableBytes());
        } else if (msg instanceof ServerGreeting) {
            out.writeLong(Nbd.NBDMAGIC).writeLong(Nbd.IHAVEOPT).writeShort(((ServerGreeting) msg).handshakeFlags());
        } else {
            ExportNameReply r = (ExportNameReply) msg;
            out.writeLong(r.size()).writeShort(r.transmissionFlags());
            if (r.zeroes()) {
                out.writeZero(Nbd.EXPORT_NAME_REPLY_ZEROES);
            }
        }
    }
}
