package org.bufcached.daemon.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * A raw NBD client for tests: writes whatever bytes it is given and reads replies
 * byte by byte, each read bounded by a timeout. Every message is built here by
 * hand with {@link ByteBuffer} from the specification, never with the production
 * codecs. Helpers cover the fixed newstyle handshake and the transmission phase;
 * replies are parsed strictly (magic, lengths, cookies) and any deviation fails
 * the test. After {@link #startTls} the same calls go through a JDK
 * {@link SSLEngine}.
 */
public final class RawClient implements AutoCloseable {
    /** Bound on every single wait for the server; generous, since a healthy server answers in microseconds. */
    public static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** The bound on a wait for a reply: {@link #TIMEOUT} unless a test expects the server to wait on a slow disk. */
    private Duration patience = TIMEOUT;

    private final SocketChannel channel;
    private final Selector selector;
    /** Offset and length of each READ sent and not yet answered: a simple reply's payload length depends on it. */
    private final Map<Long, long[]> pendingReads = new HashMap<>();
    private long nextCookie = 0x1000;
    private boolean structured;
    /** After {@link #startTls}: the engine, the bytes read and not yet decrypted, and the decrypted ones not yet read. */
    private SSLEngine engine;
    private ByteBuffer netIn;
    private ByteBuffer appIn;
    private boolean tlsClosed;

    private RawClient(SocketChannel channel) throws IOException {
        this.channel = channel;
        channel.configureBlocking(false);
        this.selector = Selector.open();
    }

    /** Connects to a Unix domain socket ({@code UnixDomainSocketAddress}) or a TCP address. */
    public static RawClient connect(SocketAddress address) throws IOException {
        return new RawClient(SocketChannel.open(address));
    }

    /** Connects to a TCP address from {@code local} (any 127.0.0.0/8 address works on loopback). */
    public static RawClient connectFrom(InetAddress local, SocketAddress address) throws IOException {
        SocketChannel ch = SocketChannel.open();
        try {
            ch.bind(new InetSocketAddress(local, 0));
            ch.connect(address);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new RawClient(ch);
    }

    // ---------------------------------------------------------------- raw bytes

    public void write(byte[] bytes) throws IOException {
        write(ByteBuffer.wrap(bytes));
    }

    public void write(ByteBuffer buffer) throws IOException {
        if (engine == null) {
            writeRaw(buffer);
            return;
        }
        ByteBuffer net = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        while (buffer.hasRemaining()) {
            net.clear();
            SSLEngineResult r = engine.wrap(buffer, net);
            if (r.getStatus() != SSLEngineResult.Status.OK) {
                throw new SSLException("cannot encrypt: " + r);
            }
            writeRaw(net.flip());
        }
    }

    private void writeRaw(ByteBuffer buffer) throws IOException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos() * 4;
        while (buffer.hasRemaining()) {
            if (channel.write(buffer) == 0) {
                await(SelectionKey.OP_WRITE, deadline, "writing " + buffer.remaining() + " more bytes");
            }
        }
    }

    /**
     * Waits up to {@code bound} for each reply from now on: for requests the server
     * answers only after real disk I/O (a FLUSH on a failing disk), where the bound
     * is about liveness, not speed.
     */
    public RawClient patience(Duration bound) {
        this.patience = bound;
        return this;
    }

    /** Reads exactly {@code n} bytes; fails if the server closes or stays silent for the {@link #patience}. */
    public ByteBuffer read(int n) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(n);
        long deadline = System.nanoTime() + patience.toNanos();
        while (buffer.hasRemaining()) {
            int got = readSome(buffer);
            if (got < 0) {
                throw new AssertionError("server closed the connection after " + buffer.position() + " of " + n
                        + " expected bytes");
            }
            if (got == 0) {
                await(SelectionKey.OP_READ, deadline, "reading byte " + buffer.position() + " of " + n);
            } else {
                deadline = System.nanoTime() + patience.toNanos();
            }
        }
        return buffer.flip();
    }

    public byte[] readBytes(int n) throws IOException {
        return read(n).array();
    }

    /** Asserts that the server closes the connection within {@link #TIMEOUT} without sending anything more. */
    public void assertClosed() throws IOException {
        assertClosedWithin(TIMEOUT);
    }

    public void assertClosedWithin(Duration bound) throws IOException {
        long deadline = System.nanoTime() + bound.toNanos();
        ByteBuffer scratch = ByteBuffer.allocate(4096);
        while (true) {
            int got;
            try {
                got = readSome(scratch);
            } catch (IOException reset) {
                return; // ECONNRESET, or a TLS alert: closed with our unread or unsent bytes pending, still closed
            }
            if (got < 0) {
                return;
            }
            assertThat(scratch.position()).as("bytes the server sent before closing").isZero();
            await(SelectionKey.OP_READ, deadline, "waiting for the server to close the connection");
        }
    }

    /** Asserts that the connection stays open and silent for {@code period}. */
    public void assertOpenFor(Duration period) throws IOException {
        long deadline = System.nanoTime() + period.toNanos();
        ByteBuffer scratch = ByteBuffer.allocate(1);
        while (System.nanoTime() < deadline) {
            assertThat(readSome(scratch)).as("server closed or sent data while it should stay silent").isZero();
            selector.selectNow();
            channel.register(selector, SelectionKey.OP_READ);
            selector.select(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            selector.selectedKeys().clear();
        }
        assertThat(readSome(scratch)).as("server closed or sent data while it should stay silent").isZero();
    }

    /** What can be read now: plaintext from the socket, or decrypted from TLS; 0 for nothing yet, -1 at the end. */
    private int readSome(ByteBuffer dst) throws IOException {
        if (engine == null) {
            return channel.read(dst);
        }
        while (true) {
            if (appIn.hasRemaining()) {
                int n = Math.min(appIn.remaining(), dst.remaining());
                dst.put(dst.position(), appIn, appIn.position(), n).position(dst.position() + n);
                appIn.position(appIn.position() + n);
                return n;
            }
            if (tlsClosed) {
                return -1;
            }
            if (netIn.position() > 0 && unwrap().bytesConsumed() > 0) {
                continue; // a record: application data, or a post-handshake message such as a session ticket
            }
            int got = channel.read(netIn);
            if (got <= 0) {
                return got;
            }
        }
    }

    private SSLEngineResult unwrap() throws SSLException {
        appIn.clear();
        try {
            SSLEngineResult r = engine.unwrap(netIn.flip(), appIn);
            if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                tlsClosed = true;
            }
            runTasks();
            return r;
        } catch (SSLException e) {
            tlsClosed = true; // an alert from the server, or garbage: nothing more can be read
            throw e;
        } finally {
            netIn.compact();
            appIn.flip();
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    /**
     * Runs a TLS handshake with {@code clientEngine} on this connection, which the
     * server has just answered NBD_OPT_STARTTLS with NBD_REP_ACK; from now on every
     * read and write is encrypted. Throws the engine's SSLException if the server
     * refuses, and fails the test if the server stays silent for {@link #TIMEOUT}.
     */
    public RawClient startTls(SSLEngine clientEngine) throws IOException {
        engine = clientEngine;
        netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize() * 2);
        appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize() * 2).flip();
        engine.beginHandshake();
        ByteBuffer none = ByteBuffer.allocate(0);
        ByteBuffer net = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
        while (status != SSLEngineResult.HandshakeStatus.FINISHED
                && status != SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) {
            switch (status) {
                case NEED_WRAP:
                    net.clear();
                    SSLEngineResult wrapped = engine.wrap(none, net);
                    writeRaw(net.flip());
                    status = wrapped.getHandshakeStatus();
                    break;
                case NEED_TASK:
                    runTasks();
                    status = engine.getHandshakeStatus();
                    break;
                default: // NEED_UNWRAP, NEED_UNWRAP_AGAIN
                    SSLEngineResult r = netIn.position() > 0 ? unwrap() : null;
                    if (r != null && r.getStatus() != SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                        status = engine.getHandshakeStatus();
                        break;
                    }
                    int got = channel.read(netIn);
                    if (got < 0) {
                        throw new SSLException("the server closed the connection during the TLS handshake");
                    }
                    if (got == 0) {
                        await(SelectionKey.OP_READ, deadline, "waiting for the server's TLS handshake");
                    }
                    status = engine.getHandshakeStatus();
            }
        }
        return this;
    }

    /** The TLS session, after {@link #startTls}. */
    public SSLSession tlsSession() {
        return engine.getSession();
    }

    /** NBD_OPT_STARTTLS, which must be acknowledged, then the TLS handshake with {@code clientEngine}. */
    public RawClient tls(SSLEngine clientEngine) throws IOException {
        OptionReply r = singleReply(OPT_STARTTLS, new byte[0]);
        assertThat(r.type()).as("reply to NBD_OPT_STARTTLS").isEqualTo(REP_ACK);
        structured = false; // nothing negotiated before STARTTLS survives it
        return startTls(clientEngine);
    }

    private void await(int op, long deadline, String what) throws IOException {
        long millis = (deadline - System.nanoTime()) / 1_000_000;
        if (millis <= 0) {
            throw new AssertionError("timed out " + what);
        }
        channel.register(selector, op);
        selector.select(millis);
        selector.selectedKeys().clear();
    }

    @Override
    public void close() throws IOException {
        selector.close();
        channel.close();
    }

    // ---------------------------------------------------------------- handshake

    /** Reads the 18-byte newstyle greeting, checks both magics and returns the handshake flags. */
    public int readGreeting() throws IOException {
        ByteBuffer b = read(18);
        assertThat(b.getLong()).as("NBDMAGIC").isEqualTo(NBDMAGIC);
        assertThat(b.getLong()).as("IHAVEOPT").isEqualTo(IHAVEOPT);
        return b.getShort() & 0xFFFF;
    }

    public void sendClientFlags(int flags) throws IOException {
        write(ByteBuffer.allocate(4).putInt(flags).flip());
    }

    /** Greeting, then client flags FIXED_NEWSTYLE | NO_ZEROES: ready for options. */
    public RawClient handshake() throws IOException {
        readGreeting();
        sendClientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
        return this;
    }

    /** An option header announcing {@code declaredLength} bytes of data, which the caller sends (or not). */
    public void sendOptionHeader(int option, long declaredLength) throws IOException {
        write(ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(option).putInt((int) declaredLength).flip());
    }

    public void sendOption(int option, byte[] data) throws IOException {
        write(ByteBuffer.allocate(16 + data.length).putLong(IHAVEOPT).putInt(option).putInt(data.length).put(data)
                .flip());
    }

    public OptionReply readOptionReply() throws IOException {
        ByteBuffer h = read(20);
        assertThat(h.getLong()).as("option reply magic").isEqualTo(REPLY_MAGIC);
        int option = h.getInt();
        int type = h.getInt();
        int length = h.getInt();
        assertThat(length).as("option reply length").isBetween(0, 1 << 20);
        return new OptionReply(option, type, readBytes(length));
    }

    /** Reads replies to {@code option} up to and including the final one (ACK or an error). */
    public List<OptionReply> readOptionReplies(int option) throws IOException {
        List<OptionReply> replies = new ArrayList<>();
        OptionReply r;
        do {
            r = readOptionReply();
            assertThat(r.option()).as("option echoed in %s", r).isEqualTo(option);
            replies.add(r);
        } while (!r.isFinal());
        return replies;
    }

    /** Sends an option and returns all its replies, the final one last. */
    public List<OptionReply> option(int option, byte[] data) throws IOException {
        sendOption(option, data);
        return readOptionReplies(option);
    }

    /** Sends an option that must be answered by exactly one reply, and returns it. */
    public OptionReply singleReply(int option, byte[] data) throws IOException {
        List<OptionReply> replies = option(option, data);
        assertThat(replies).as("replies to option %d", option).hasSize(1);
        return replies.get(0);
    }

    /** NBD_OPT_INFO / NBD_OPT_GO data: name length, name, number of requests, requests. */
    public static byte[] infoRequest(String export, int... infos) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + name.length + 2 + 2 * infos.length)
                .putInt(name.length).put(name).putShort((short) infos.length);
        for (int info : infos) {
            b.putShort((short) info);
        }
        return b.array();
    }

    /** NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT data. */
    public static byte[] metaContextRequest(String export, String... queries) {
        List<byte[]> parts = new ArrayList<>();
        int size = 4 + export.getBytes(StandardCharsets.UTF_8).length + 4;
        for (String q : queries) {
            byte[] bytes = q.getBytes(StandardCharsets.UTF_8);
            parts.add(bytes);
            size += 4 + bytes.length;
        }
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(size).putInt(name.length).put(name).putInt(queries.length);
        parts.forEach(p -> b.putInt(p.length).put(p));
        return b.array();
    }

    public List<OptionReply> go(String export, int... infos) throws IOException {
        return option(OPT_GO, infoRequest(export, infos));
    }

    /** NBD_OPT_GO that must succeed: the connection is in transmission afterwards. */
    public RawClient enter(String export) throws IOException {
        List<OptionReply> replies = go(export);
        assertThat(replies).as("NBD_OPT_GO replies").last().extracting(OptionReply::type).isEqualTo(REP_ACK);
        return this;
    }

    public RawClient structuredReplies() throws IOException {
        OptionReply r = singleReply(OPT_STRUCTURED_REPLY, new byte[0]);
        assertThat(r.type()).as("reply to NBD_OPT_STRUCTURED_REPLY").isEqualTo(REP_ACK);
        structured = true;
        return this;
    }

    /** Selects base:allocation for {@code export}; returns the context id the server assigned. */
    public int selectAllocation(String export) throws IOException {
        List<OptionReply> replies = option(OPT_SET_META_CONTEXT, metaContextRequest(export, BASE_ALLOCATION));
        assertThat(replies).as("NBD_OPT_SET_META_CONTEXT replies").extracting(OptionReply::type)
                .containsExactly(REP_META_CONTEXT, REP_ACK);
        ByteBuffer b = replies.get(0).buffer();
        int id = b.getInt();
        assertThat(StandardCharsets.UTF_8.decode(b).toString()).isEqualTo(BASE_ALLOCATION);
        return id;
    }

    // ---------------------------------------------------------------- transmission

    public static ByteBuffer requestHeader(int magic, int flags, int type, long cookie, long offset, long length) {
        return ByteBuffer.allocate(28).putInt(magic).putShort((short) flags).putShort((short) type).putLong(cookie)
                .putLong(offset).putInt((int) length).flip();
    }

    public long newCookie() {
        return nextCookie++;
    }

    /** Sends a request header (and payload, if any) without waiting; returns its cookie. */
    public long send(int type, int flags, long offset, long length, byte[] payload) throws IOException {
        long cookie = newCookie();
        sendWithCookie(cookie, type, flags, offset, length, payload);
        return cookie;
    }

    public long send(int type, int flags, long offset, long length) throws IOException {
        return send(type, flags, offset, length, null);
    }

    public void sendWithCookie(long cookie, int type, int flags, long offset, long length, byte[] payload)
            throws IOException {
        if (type == CMD_READ) {
            pendingReads.put(cookie, new long[] {offset, length});
        }
        write(requestHeader(REQUEST_MAGIC, flags, type, cookie, offset, length));
        if (payload != null) {
            write(payload);
        }
    }

    public long sendWrite(long offset, byte[] data, int flags) throws IOException {
        return send(CMD_WRITE, flags, offset, data.length, data);
    }

    public long sendRead(long offset, int length) throws IOException {
        return send(CMD_READ, 0, offset, length);
    }

    /** Reads one whole reply: a simple reply (with its data, for a successful READ) or every chunk up to DONE. */
    public Reply readReply() throws IOException {
        int magic = read(4).getInt();
        if (magic == SIMPLE_REPLY_MAGIC) {
            ByteBuffer b = read(12);
            int error = b.getInt();
            long cookie = b.getLong();
            long[] read = pendingReads.remove(cookie);
            assertThat(structured && read != null).as("simple reply to a READ after structured replies").isFalse();
            byte[] data = read != null && error == 0 ? readBytes((int) read[1]) : new byte[0];
            return new Reply(cookie, false, error, data, List.of());
        }
        assertThat(magic).as("reply magic 0x%x", magic).isEqualTo(STRUCTURED_REPLY_MAGIC);
        assertThat(structured).as("structured reply without NBD_OPT_STRUCTURED_REPLY").isTrue();
        List<Chunk> chunks = new ArrayList<>();
        Chunk chunk = readChunkBody();
        chunks.add(chunk);
        while (!chunk.done()) {
            assertThat(read(4).getInt()).as("structured reply magic").isEqualTo(STRUCTURED_REPLY_MAGIC);
            chunk = readChunkBody();
            // This server writes each reply in one piece; interleaving would need a smarter client.
            assertThat(chunk.cookie()).as("cookie of the next chunk").isEqualTo(chunks.get(0).cookie());
            chunks.add(chunk);
        }
        long cookie = chunk.cookie();
        int error = chunks.stream().filter(Chunk::isError).findFirst().map(Chunk::error).orElse(0);
        long[] read = pendingReads.remove(cookie);
        byte[] data = read != null && error == 0 ? assemble(read[0], (int) read[1], chunks) : new byte[0];
        return new Reply(cookie, true, error, data, List.copyOf(chunks));
    }

    private Chunk readChunkBody() throws IOException {
        ByteBuffer h = read(16);
        int flags = h.getShort() & 0xFFFF;
        int type = h.getShort() & 0xFFFF;
        long cookie = h.getLong();
        int length = h.getInt();
        assertThat(length).as("chunk length").isBetween(0, 64 << 20);
        return new Chunk(flags, type, cookie, readBytes(length));
    }

    /** Reassembles a structured READ from its content chunks, checking they cover the request exactly once. */
    private static byte[] assemble(long offset, int length, List<Chunk> chunks) {
        byte[] data = new byte[length];
        List<long[]> ranges = new ArrayList<>();
        for (Chunk c : chunks) {
            if (c.type() != REPLY_TYPE_OFFSET_DATA && c.type() != REPLY_TYPE_OFFSET_HOLE) {
                continue;
            }
            ByteBuffer b = ByteBuffer.wrap(c.payload());
            long at = b.getLong() - offset;
            int n = c.type() == REPLY_TYPE_OFFSET_DATA ? b.remaining() : b.getInt();
            assertThat(n).as("content chunk size").isPositive();
            assertThat(at).as("content chunk start").isBetween(0L, (long) length - n);
            if (c.type() == REPLY_TYPE_OFFSET_DATA) {
                b.get(data, (int) at, n);
            }
            ranges.add(new long[] {at, n});
        }
        ranges.sort((x, y) -> Long.compare(x[0], y[0]));
        long next = 0;
        for (long[] r : ranges) {
            assertThat(r[0]).as("content chunks neither overlap nor leave a gap").isEqualTo(next);
            next = r[0] + r[1];
        }
        assertThat(next).as("bytes of the read covered by content chunks").isEqualTo(length);
        return data;
    }

    public Reply request(int type, int flags, long offset, long length) throws IOException {
        return expectReply(send(type, flags, offset, length));
    }

    public Reply read(long offset, int length) throws IOException {
        return expectReply(sendRead(offset, length));
    }

    public Reply write(long offset, byte[] data) throws IOException {
        return write(offset, data, 0);
    }

    public Reply write(long offset, byte[] data, int flags) throws IOException {
        return expectReply(sendWrite(offset, data, flags));
    }

    /** Reads the next reply and checks it answers {@code cookie}. */
    public Reply expectReply(long cookie) throws IOException {
        Reply r = readReply();
        assertThat(r.cookie()).as("cookie of the reply").isEqualTo(cookie);
        return r;
    }

    /** Writes {@code data} at {@code offset} and reads it back, asserting both succeed and match. */
    public void assertRoundTrip(long offset, byte[] data) throws IOException {
        write(offset, data).assertOk();
        assertThat(read(offset, data.length).assertOk().data()).as("data read back at %d", offset).isEqualTo(data);
    }

    public void disconnect() throws IOException {
        write(requestHeader(REQUEST_MAGIC, 0, CMD_DISC, newCookie(), 0, 0));
    }
}
