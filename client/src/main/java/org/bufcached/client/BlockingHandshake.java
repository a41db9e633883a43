package org.bufcached.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.bufcached.protocol.client.HandshakeClientDecoder;
import org.bufcached.protocol.client.HandshakeClientEncoder;

/**
 * The same handshake as {@link NbdClient#connect}, run over a plain blocking byte
 * stream instead of a Netty channel: the codecs and {@link Negotiator} sit in an
 * {@link EmbeddedChannel} and this class pumps bytes between it and the stream.
 * {@code attach} needs that, because the kernel takes over the socket afterwards.
 */
public final class BlockingHandshake {
    /** A blocking byte stream, e.g. a socket file descriptor. */
    public interface Stream {
        /** Reads into {@code buf}; returns the count, or -1 at end of stream. */
        int read(byte[] buf) throws IOException;

        void write(byte[] buf) throws IOException;
    }

    private BlockingHandshake() {
    }

    /** Negotiates {@code exportName} and returns what the server said; the stream is then in transmission. */
    public static ExportInfo go(Stream stream, String exportName, ClientOptions options) throws IOException {
        HandshakeHandler handshake = new HandshakeHandler();
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast("handshake-decoder", new HandshakeClientDecoder(1 << 16))
                .addLast(HandshakeClientEncoder.INSTANCE, handshake);
        CompletableFuture<ExportInfo> result = new Negotiator(handshake, options, Optional.empty()).go(exportName);
        byte[] buf = new byte[8192];
        try {
            while (!result.isDone()) {
                drain(ch, stream);
                int n = stream.read(buf);
                if (n < 0) {
                    ch.close();
                    break;
                }
                ch.writeInbound(Unpooled.copiedBuffer(buf, 0, n)); // a copy: the decoder may keep it as its cumulation
            }
            drain(ch, stream);
            return result.join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = Errors.unwrap(e);
            throw cause instanceof IOException ? (IOException) cause : new NbdException(Errors.message(cause), cause);
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    private static void drain(EmbeddedChannel ch, Stream stream) throws IOException {
        ByteBuf out;
        while ((out = ch.readOutbound()) != null) {
            try {
                byte[] bytes = new byte[out.readableBytes()];
                out.readBytes(bytes);
                stream.write(bytes);
            } finally {
                out.release();
            }
        }
    }
}
