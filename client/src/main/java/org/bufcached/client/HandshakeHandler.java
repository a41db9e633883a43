package org.bufcached.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.bufcached.protocol.ClientFlags;
import org.bufcached.protocol.ExportNameReply;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.OptionReplies;
import org.bufcached.protocol.OptionReply;
import org.bufcached.protocol.OptionRequest;
import org.bufcached.protocol.ServerGreeting;
import org.bufcached.protocol.client.HandshakeClientDecoder;

/**
 * Turns the handshake messages into futures, one exchange at a time: the greeting,
 * then each option with all its replies up to the final one (NBD_REP_ACK or an
 * error), or the EXPORT_NAME reply. The order of options is {@link Negotiator}'s
 * business; this class only matches replies to the option that is outstanding and
 * fails it when the server breaks the protocol or hangs up.
 */
final class HandshakeHandler extends SimpleChannelInboundHandler<Object> {
    /** The name of the TLS handler in the pipeline, there for the life of a connection that negotiated TLS. */
    static final String TLS = "tls";

    /** The replies to one option; the last one is final. Contents are unpooled copies. */
    record Replies(int option, List<OptionReply> replies) {
        OptionReply last() {
            return replies.get(replies.size() - 1);
        }

        boolean acked() {
            return last().type() == Nbd.NBD_REP_ACK;
        }

        /** The error reply as an exception to throw from a future stage. */
        CompletionException refusal() {
            OptionReply r = last();
            return new CompletionException(new NbdOptionException(option, r.type(), OptionReplies.errorMessage(r.content())));
        }
    }

    private final CompletableFuture<ServerGreeting> greeting = new CompletableFuture<>();
    private ChannelHandlerContext ctx;
    private int outstandingOption;
    private List<OptionReply> collected;
    private CompletableFuture<Replies> optionFuture;
    private CompletableFuture<ExportNameReply> exportNameFuture;
    private CompletableFuture<Void> tlsFuture;

    CompletableFuture<ServerGreeting> greeting() {
        return greeting;
    }

    Channel channel() {
        return ctx.channel();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    void sendClientFlags(int flags) {
        ctx.writeAndFlush(new ClientFlags(flags));
    }

    /** Sends an option (taking ownership of {@code data}) and collects its replies. */
    CompletableFuture<Replies> option(int option, ByteBuf data) {
        assert optionFuture == null && exportNameFuture == null : "one exchange at a time";
        outstandingOption = option;
        collected = new ArrayList<>();
        optionFuture = new CompletableFuture<>();
        CompletableFuture<Replies> f = optionFuture;
        ctx.writeAndFlush(new OptionRequest(option, data)).addListener(w -> {
            if (!w.isSuccess()) {
                failAll(new NbdException("cannot send " + Nbd.optionName(option), w.cause()));
            }
        });
        return f;
    }

    /** Sends NBD_OPT_EXPORT_NAME; the server answers with size and flags, or closes the connection. */
    CompletableFuture<ExportNameReply> exportName(String name, boolean zeroes) {
        ctx.pipeline().get(HandshakeClientDecoder.class).expectExportNameReply(zeroes);
        exportNameFuture = new CompletableFuture<>();
        ctx.writeAndFlush(new OptionRequest(Nbd.NBD_OPT_EXPORT_NAME,
                Unpooled.wrappedBuffer(name.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
        return exportNameFuture;
    }

    /**
     * After the server acknowledged NBD_OPT_STARTTLS: puts {@code tls} at the head
     * of the pipeline, where it starts the TLS handshake, and a fresh decoder
     * behind it; completes when the handshake is done. Bytes the old decoder still
     * holds came in the clear after the acknowledgement: removing it hands them
     * to this handler, which fails the connection, so they never pass for replies
     * sent over TLS.
     */
    CompletableFuture<Void> startTls(ChannelHandler tls) {
        tlsFuture = new CompletableFuture<>();
        CompletableFuture<Void> f = tlsFuture;
        ChannelPipeline p = ctx.pipeline();
        HandshakeClientDecoder decoder = p.get(HandshakeClientDecoder.class);
        String name = p.context(decoder).name();
        p.addFirst(TLS, tls);
        p.remove(decoder);
        if (ctx.channel().isActive()) {
            p.addAfter(TLS, name, decoder.afterStartTls());
        }
        return f;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent && tlsFuture != null) {
            SslHandshakeCompletionEvent event = (SslHandshakeCompletionEvent) evt;
            CompletableFuture<Void> f = tlsFuture;
            tlsFuture = null;
            if (event.isSuccess()) {
                f.complete(null);
            } else {
                f.completeExceptionally(new NbdException("TLS handshake failed: " + Errors.message(event.cause()),
                        event.cause()));
            }
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ServerGreeting) {
            greeting.complete((ServerGreeting) msg);
        } else if (msg instanceof ExportNameReply && exportNameFuture != null) {
            CompletableFuture<ExportNameReply> f = exportNameFuture;
            exportNameFuture = null;
            f.complete((ExportNameReply) msg);
        } else if (msg instanceof OptionReply && optionFuture != null) {
            onOptionReply((OptionReply) msg);
        } else if (msg instanceof ByteBuf) {
            // What the decoder held when STARTTLS replaced it: sent in the clear, so possibly forged.
            throw new NbdProtocolException("the server sent bytes in the clear after acknowledging NBD_OPT_STARTTLS");
        } else {
            throw new NbdProtocolException("unexpected " + msg + " during the handshake");
        }
    }

    private void onOptionReply(OptionReply reply) {
        if (reply.option() != outstandingOption) {
            throw new NbdProtocolException(reply + " while " + Nbd.optionName(outstandingOption) + " is outstanding");
        }
        collected.add(new OptionReply(reply.option(), reply.type(), Unpooled.copiedBuffer(reply.content())));
        if (reply.type() == Nbd.NBD_REP_ACK || reply.isError()) {
            CompletableFuture<Replies> f = optionFuture;
            optionFuture = null;
            f.complete(new Replies(outstandingOption, collected));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failAll(cause instanceof NbdProtocolException || cause.getCause() instanceof NbdProtocolException
                ? new NbdException("protocol error during the handshake: " + Errors.message(cause), cause)
                : new NbdException("handshake failed: " + Errors.message(cause), cause));
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        String what = exportNameFuture != null ? " (after NBD_OPT_EXPORT_NAME: is the export name right?)"
                : optionFuture != null ? " while waiting for the reply to " + Nbd.optionName(outstandingOption) : "";
        failAll(new NbdException("server closed the connection during the handshake" + what));
        ctx.fireChannelInactive();
    }

    private void failAll(Throwable t) {
        greeting.completeExceptionally(t);
        if (tlsFuture != null) {
            tlsFuture.completeExceptionally(t);
            tlsFuture = null;
        }
        if (optionFuture != null) {
            optionFuture.completeExceptionally(t);
            optionFuture = null;
        }
        if (exportNameFuture != null) {
            exportNameFuture.completeExceptionally(t);
            exportNameFuture = null;
        }
    }
}
