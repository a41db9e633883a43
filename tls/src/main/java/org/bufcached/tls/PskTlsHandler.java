package org.bufcached.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.PendingWriteQueue;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import javax.net.ssl.SSLHandshakeException;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsFatalAlertReceived;
import org.bouncycastle.tls.TlsProtocol;
import org.bouncycastle.tls.TlsServerProtocol;

/**
 * TLS-PSK in a Netty pipeline, where SslHandler would be for X.509: the JDK and
 * Netty have no TLS-PSK, so this drives a BouncyCastle {@link TlsProtocol} in its
 * non-blocking mode ({@code offerInput}/{@code readInput} for what arrives,
 * {@code writeApplicationData}/{@code readOutput} for what leaves). It fires the
 * same {@link SslHandshakeCompletionEvent}s as SslHandler, so the handlers behind
 * it need not know which of the two is in front; {@link #identity()} is the
 * PSK username once the handshake succeeded.
 *
 * <p>Writes made before the handshake completes wait for it. One write becomes
 * one encrypted buffer carrying the write's promise. All state is confined to the
 * channel's event loop.
 */
public final class PskTlsHandler extends ChannelDuplexHandler {
    /** What the handler needs of a BouncyCastle peer beyond the protocol. */
    interface Peer {
        /** The username the handshake used: the client's identity on the server side. */
        String identity();

        /** Words to add to a failure message, such as the unknown usernames a client offered; may be empty. */
        String failureHint();

        /** The negotiated version, such as "TLS 1.3". */
        String protocol();
    }

    private interface Start {
        void start() throws IOException;
    }

    /** Bytes handed to BouncyCastle at a time: one TLS record's worth of plaintext. */
    private static final int CHUNK = 16 * 1024;

    private final TlsProtocol protocol;
    /** Copies between Netty buffers and BouncyCastle's byte-array API, reused for every record. */
    private final byte[] scratch = new byte[CHUNK];
    private Peer peer;
    private Start start;
    private PendingWriteQueue pending;
    private boolean started;
    /** Set by the peer's callback, which runs inside {@code offerInput}. */
    private boolean handshakeDone;
    /** The completion event (success or failure) has been fired. */
    private boolean finished;
    private boolean failed;

    private PskTlsHandler(TlsProtocol protocol) {
        this.protocol = protocol;
    }

    /** The server side: clients must prove the key of a username in {@code keys}. */
    public static PskTlsHandler server(PskKeys keys) {
        TlsServerProtocol protocol = new TlsServerProtocol();
        PskTlsHandler handler = new PskTlsHandler(protocol);
        PskTlsServer server = new PskTlsServer(keys, handler::handshakeCompleted);
        handler.peer = server;
        handler.start = () -> protocol.accept(server);
        return handler;
    }

    /** The client side: offers {@code key} under {@code username}; sends its ClientHello once added. */
    public static PskTlsHandler client(String username, byte[] key) {
        TlsClientProtocol protocol = new TlsClientProtocol();
        PskTlsHandler handler = new PskTlsHandler(protocol);
        PskTlsClient client = new PskTlsClient(username, key, handler::handshakeCompleted);
        handler.peer = client;
        handler.start = () -> protocol.connect(client);
        return handler;
    }

    /** The PSK username the handshake used; null before it succeeded. */
    public String identity() {
        return handshakeDone ? peer.identity() : null;
    }

    /** The negotiated TLS version, such as "TLS 1.3"; null before the handshake succeeded. */
    public String protocol() {
        return handshakeDone ? peer.protocol() : null;
    }

    private void handshakeCompleted() {
        handshakeDone = true;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        pending = new PendingWriteQueue(ctx);
        if (ctx.channel().isActive()) {
            start(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start(ctx);
        ctx.fireChannelActive();
    }

    /**
     * Begins the handshake, once: a client's ClientHello leaves now, a server
     * waits for one. An accepted channel is active before its handlers are added,
     * a connecting one only after.
     */
    private void start(ChannelHandlerContext ctx) {
        if (started) {
            return;
        }
        started = true;
        try {
            start.start();
        } catch (IOException e) {
            fail(ctx, e);
            return;
        }
        flushOutput(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        pending.removeAndFailAll(new ClosedChannelException());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf in = (ByteBuf) msg;
        try {
            while (in.isReadable() && !failed) {
                int n = Math.min(in.readableBytes(), CHUNK);
                in.readBytes(scratch, 0, n);
                protocol.offerInput(scratch, 0, n);
                // Records after the client's Finished may be in the same read: the handlers behind
                // must learn that TLS is up before the first of them arrives.
                completeHandshake(ctx);
                deliver(ctx);
            }
        } catch (IOException e) {
            fail(ctx, e);
        } finally {
            in.release();
        }
        if (!failed) {
            flushOutput(ctx);
            if (protocol.isClosed()) {
                ctx.close();
            }
        }
    }

    private void completeHandshake(ChannelHandlerContext ctx) {
        if (handshakeDone && !finished) {
            finished = true;
            ctx.fireUserEventTriggered(SslHandshakeCompletionEvent.SUCCESS);
            while (!pending.isEmpty()) {
                // remove() releases the message; keep it for the encryption, which releases it.
                ByteBuf msg = ((ByteBuf) pending.current()).retain();
                encrypt(ctx, msg, pending.remove());
            }
            ctx.flush();
        }
    }

    /** Hands on the application data BouncyCastle has decrypted. */
    private void deliver(ChannelHandlerContext ctx) {
        int n;
        while ((n = protocol.getAvailableInputBytes()) > 0) {
            ByteBuf data = ctx.alloc().buffer(n);
            protocol.readInput(data.internalNioBuffer(0, n), n);
            data.writerIndex(n);
            ctx.fireChannelRead(data);
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf)) {
            ctx.write(msg, promise);
        } else if (!finished) {
            pending.add(msg, promise);
        } else if (failed || protocol.isClosed()) {
            // Closed by us, by an alert, or by the peer's close_notify, which may come in the
            // same read as the request being answered.
            ((ByteBuf) msg).release();
            promise.setFailure(new ClosedChannelException());
        } else {
            encrypt(ctx, (ByteBuf) msg, promise);
        }
    }

    private void encrypt(ChannelHandlerContext ctx, ByteBuf msg, ChannelPromise promise) {
        try {
            while (msg.isReadable()) {
                int n = Math.min(msg.readableBytes(), CHUNK);
                msg.readBytes(scratch, 0, n);
                protocol.writeApplicationData(scratch, 0, n);
            }
        } catch (IOException e) {
            promise.setFailure(e);
            fail(ctx, e);
            return;
        } finally {
            msg.release();
        }
        ctx.write(output(ctx), promise);
    }

    /** What BouncyCastle has to send (records, alerts), as one buffer. */
    private ByteBuf output(ChannelHandlerContext ctx) {
        int n = protocol.getAvailableOutputBytes();
        if (n == 0) {
            return Unpooled.EMPTY_BUFFER;
        }
        ByteBuf out = ctx.alloc().directBuffer(n);
        protocol.readOutput(out.internalNioBuffer(0, n), n);
        return out.writerIndex(n);
    }

    private void flushOutput(ChannelHandlerContext ctx) {
        if (protocol.getAvailableOutputBytes() > 0) {
            ctx.writeAndFlush(output(ctx));
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (finished && !failed && !protocol.isClosed()) {
            try {
                protocol.close(); // close_notify, so the peer can tell an end from a truncation
            } catch (IOException e) {
                // Closing anyway: the peer sees the connection end without close_notify.
            }
            flushOutput(ctx);
        }
        ctx.close(promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!finished) {
            finished = true;
            ctx.fireUserEventTriggered(new SslHandshakeCompletionEvent(
                    new SSLHandshakeException("the connection closed during the TLS handshake")));
        }
        pending.removeAndFailAll(new ClosedChannelException());
        ctx.fireChannelInactive();
    }

    /**
     * A fatal alert, raised here or received: sends what BouncyCastle queued (its
     * alert), reports the failure as SslHandler would, and closes.
     */
    private void fail(ChannelHandlerContext ctx, IOException e) {
        if (failed) {
            return;
        }
        failed = true;
        flushOutput(ctx);
        SSLHandshakeException cause = new SSLHandshakeException(describe(e) + peer.failureHint());
        cause.initCause(e);
        if (!finished) {
            finished = true;
            ctx.fireUserEventTriggered(new SslHandshakeCompletionEvent(cause));
        } else {
            ctx.fireExceptionCaught(cause);
        }
        pending.removeAndFailAll(cause);
        ctx.close();
    }

    private static String describe(IOException e) {
        if (e instanceof TlsFatalAlertReceived) {
            return "the peer sent alert " + AlertDescription.getText(((TlsFatalAlertReceived) e).getAlertDescription());
        }
        if (e instanceof TlsFatalAlert) {
            return "alert " + e.getMessage(); // the alert's name, and the detail where there is one
        }
        return String.valueOf(e.getMessage());
    }
}
