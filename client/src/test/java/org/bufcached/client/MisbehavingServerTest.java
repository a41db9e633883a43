package org.bufcached.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.OptionReplies;
import org.bufcached.protocol.server.ReplyWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A scripted server that breaks the protocol in one way per test. The client must
 * fail the request with a clear error, close the connection and not hang.
 */
@Timeout(20)
class MisbehavingServerTest {
    /** What the server does once it has read the first request. */
    private interface Misbehaviour {
        void reply(OutputStream out, long cookie) throws IOException;
    }

    /**
     * A one-connection server: a normal GO handshake (no structured replies; extended
     * headers if {@code extended}), then {@code misbehaviour}.
     */
    private static final class ScriptedServer implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        final Thread thread;

        ScriptedServer(byte[] greeting, Misbehaviour misbehaviour) throws IOException {
            this(greeting, false, misbehaviour);
        }

        ScriptedServer(byte[] greeting, boolean extended, Misbehaviour misbehaviour) throws IOException {
            thread = new Thread(() -> {
                try (Socket s = socket.accept()) {
                    OutputStream out = s.getOutputStream();
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    out.write(greeting);
                    in.readInt(); // client flags
                    while (true) {
                        in.readLong();
                        int option = in.readInt();
                        in.skipNBytes(in.readInt() & 0xffffffffL);
                        if (option == Nbd.NBD_OPT_EXTENDED_HEADERS && extended) {
                            write(out, optionReply(option, Nbd.NBD_REP_ACK, Unpooled.EMPTY_BUFFER));
                            continue;
                        }
                        if (option != Nbd.NBD_OPT_GO) {
                            write(out, optionReply(option, Nbd.NBD_REP_ERR_UNSUP, Unpooled.EMPTY_BUFFER));
                            continue;
                        }
                        write(out, optionReply(option, Nbd.NBD_REP_INFO,
                                OptionReplies.infoExport(ByteBufAllocator.DEFAULT, 1 << 20, Nbd.NBD_FLAG_HAS_FLAGS)));
                        write(out, optionReply(option, Nbd.NBD_REP_ACK, Unpooled.EMPTY_BUFFER));
                        break;
                    }
                    in.readInt();
                    in.readInt();
                    long cookie = in.readLong();
                    in.skipNBytes(extended ? 16 : 12);
                    misbehaviour.reply(out, cookie);
                    out.flush();
                    s.getInputStream().read(); // wait for the client to hang up
                } catch (IOException e) {
                    // the client hung up first: that is the expected end
                }
            }, "scripted-nbd-server");
            thread.setDaemon(true);
            thread.start();
        }

        NbdUri uri() {
            return NbdUri.tcp("127.0.0.1", socket.getLocalPort(), "");
        }

        @Override
        public void close() throws Exception {
            socket.close();
            thread.join(5000);
        }
    }

    private static final byte[] GREETING = greeting(Nbd.NBDMAGIC, Nbd.NBD_FLAG_FIXED_NEWSTYLE | Nbd.NBD_FLAG_NO_ZEROES);

    private static byte[] greeting(long magic, int flags) {
        return io.netty.buffer.ByteBufUtil.getBytes(Unpooled.buffer().writeLong(magic).writeLong(Nbd.IHAVEOPT).writeShort(flags));
    }

    private static ByteBuf optionReply(int option, int type, ByteBuf data) {
        ByteBuf b = Unpooled.buffer().writeLong(Nbd.NBD_REP_MAGIC).writeInt(option).writeInt(type)
                .writeInt(data.readableBytes()).writeBytes(data);
        data.release();
        return b;
    }

    private static void write(OutputStream out, ByteBuf b) throws IOException {
        try {
            b.readBytes(out, b.readableBytes());
        } finally {
            b.release();
        }
    }

    private static void expectFailure(Misbehaviour m, String message) throws Exception {
        expectFailure(false, m, message);
    }

    private static void expectFailure(boolean extended, Misbehaviour m, String message) throws Exception {
        try (ScriptedServer server = new ScriptedServer(GREETING, extended, m);
             NbdClient client = NbdClient.connect(server.uri()).get(5, TimeUnit.SECONDS)) {
            assertThat(client.info().structuredReplies()).isEqualTo(extended);
            assertThat(client.info().extendedHeaders()).isEqualTo(extended);
            assertThatThrownBy(() -> client.read(0, 4096).get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(NbdException.class)
                    .hasMessageContaining(message);
            client.closeFuture().get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void wrongReplyMagic() throws Exception {
        expectFailure((out, cookie) -> write(out, Unpooled.buffer().writeInt(0x12345678).writeInt(0).writeLong(cookie)),
                "bad reply magic 0x12345678");
    }

    @Test
    void unknownCookie() throws Exception {
        expectFailure((out, cookie) -> write(out, ReplyWriter.simpleReply(ByteBufAllocator.DEFAULT, cookie + 99, 0)),
                "unknown cookie");
    }

    @Test
    void truncatedReply() throws Exception {
        expectFailure((out, cookie) -> {
            write(out, ReplyWriter.simpleReply(ByteBufAllocator.DEFAULT, cookie, 0));
            out.write(new byte[1000]);
            out.flush();
            throw new IOException("hang up mid-reply");
        }, "server closed the connection");
    }

    @Test
    void structuredReplyThatWasNotNegotiated() throws Exception {
        expectFailure((out, cookie) -> write(out, ReplyWriter.STRUCTURED.none(ByteBufAllocator.DEFAULT, cookie, 0)),
                "structured replies were not negotiated");
    }

    @Test
    void extendedReplyThatWasNotNegotiated() throws Exception {
        expectFailure((out, cookie) -> write(out, ReplyWriter.EXTENDED.none(ByteBufAllocator.DEFAULT, cookie, 0)),
                "extended headers were not negotiated");
    }

    @Test
    void compactReplyAfterExtendedHeaders() throws Exception {
        expectFailure(true, (out, cookie) -> write(out, ReplyWriter.simpleReply(ByteBufAllocator.DEFAULT, cookie, 0)),
                "compact reply");
    }

    /** "S: 64 bits, offset (MUST match the request)". */
    @Test
    void extendedReplyWithAnotherOffset() throws Exception {
        expectFailure(true, (out, cookie) -> write(out, ReplyWriter.EXTENDED.none(ByteBufAllocator.DEFAULT, cookie, 512)),
                "extended reply chunk with offset 512 for a request at 0");
    }

    /** The spec: a client MAY hard-disconnect on an unexpectedly large reply length. */
    @Test
    void extendedReplyOfAnAbsurdLength() throws Exception {
        expectFailure(true, (out, cookie) -> write(out, Unpooled.buffer().writeInt(Nbd.NBD_EXTENDED_REPLY_MAGIC)
                .writeShort(Nbd.NBD_REPLY_FLAG_DONE).writeShort(Nbd.NBD_REPLY_TYPE_OFFSET_DATA).writeLong(cookie)
                .writeLong(0).writeLong(1L << 40)), "exceeds the limit");
    }

    @Test
    void wrongGreetingMagicFailsTheConnect() throws Exception {
        byte[] bad = greeting(0x1122334455667788L, Nbd.NBD_FLAG_FIXED_NEWSTYLE);
        try (ScriptedServer server = new ScriptedServer(bad, (out, cookie) -> { })) {
            assertThatThrownBy(() -> NbdClient.connect(server.uri()).get(5, TimeUnit.SECONDS))
                    .cause().isInstanceOf(NbdException.class).hasMessageContaining("not an NBD server");
        }
    }
}
