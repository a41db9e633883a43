package org.bufcached.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.ReferenceCounted;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.OptionReplies.ServerEntry;
import org.bufcached.protocol.client.HandshakeClientDecoder;
import org.bufcached.protocol.client.HandshakeClientEncoder;
import org.bufcached.protocol.client.ReplyDecoder;
import org.bufcached.protocol.client.RequestEncoder;

/**
 * An asynchronous, pipelined NBD connection to one export. Every command returns at
 * once; any number may be in flight and the server may answer them in any order.
 *
 * <p>The convenient methods ({@link #read}, {@link #write}, ...) take any range: they
 * split it at the server's maximum payload and widen reads to its minimum block
 * size. {@link #submit} is the raw path for hot loops: one request, checked against
 * the export's constraints and transmission flags, completed through a reusable
 * {@link ReplyCallback}. Nothing is ever sent that the server did not advertise.
 */
public final class NbdClient implements AutoCloseable {
    private static final int MAX_OPTION_REPLY = 1 << 16;
    /** The largest chunk accepted: a 32 MiB READ payload or an 8 MiB BLOCK_STATUS list, plus headers. */
    private static final int MAX_CHUNK = (1 << 25) + (1 << 23) + 64;
    /**
     * The largest effect length of a TRIM, WRITE_ZEROES, CACHE or BLOCK_STATUS request
     * before alignment in compact headers. With extended headers one request covers
     * any range.
     */
    private static final long MAX_EFFECT = 1L << 30;
    /**
     * The send buffer of a Unix socket connection. The default (208 KiB) holds a fifth of
     * a 1 MiB WRITE, and each time it fills the event loop waits for the server to drain
     * it; with 4 MiB several large WRITEs go at once. The kernel caps the value at
     * net.core.wmem_max. TCP keeps its own tuning.
     */
    private static final int UNIX_SEND_BUFFER = 4 << 20;

    private final Channel channel;
    private final TransmissionHandler transmission;
    private final ExportInfo info;
    private final int allocationContext;
    /** No TLS: what the transmission phase sends is what goes on the wire. */
    private final boolean plaintext;

    private NbdClient(Channel channel, TransmissionHandler transmission, ExportInfo info) {
        this.channel = channel;
        this.transmission = transmission;
        this.info = info;
        this.plaintext = channel.pipeline().get(HandshakeHandler.TLS) == null;
        Integer id = info.metaContexts().get(Nbd.BASE_ALLOCATION);
        this.allocationContext = id == null ? -1 : id;
    }

    public static CompletableFuture<NbdClient> connect(NbdUri uri) {
        return connect(uri, ClientOptions.DEFAULT);
    }

    /** Connects, negotiates and enters the transmission phase on the export of {@code uri}. */
    public static CompletableFuture<NbdClient> connect(NbdUri uri, ClientOptions options) {
        return handshake(uri, options, n -> n.go(uri.exportName()).thenApply(info -> info), (ch, info) -> {
            TransmissionHandler t = new TransmissionHandler(info.structuredReplies());
            ChannelPipeline p = ch.pipeline();
            // Added before the handshake decoder goes, so bytes it still holds reach the reply decoder.
            p.addAfter("handshake-decoder", "reply-decoder", new ReplyDecoder(t, info.mode(), MAX_CHUNK));
            p.addAfter("reply-decoder", "request-encoder", RequestEncoder.of(info.extendedHeaders()));
            p.addAfter("request-encoder", "flush", new FlushConsolidationHandler(256, true));
            p.addAfter("flush", "transmission", t);
            p.remove(HandshakeHandler.class);
            p.remove(HandshakeClientEncoder.INSTANCE);
            p.remove("handshake-decoder");
            return new NbdClient(ch, t, info);
        });
    }

    /** The exports the server lists (NBD_OPT_LIST). */
    public static CompletableFuture<List<ServerEntry>> list(NbdUri uri) {
        return handshake(uri, ClientOptions.DEFAULT, Negotiator::list, (ch, exports) -> {
            ch.close();
            return exports;
        });
    }

    /** What the server says about the export of {@code uri} (NBD_OPT_INFO), with all its metadata contexts. */
    public static CompletableFuture<ExportInfo> info(NbdUri uri) {
        return info(uri, ClientOptions.DEFAULT);
    }

    /** NBD_OPT_INFO after negotiating the headers {@code options} ask for, which the result tells. */
    public static CompletableFuture<ExportInfo> info(NbdUri uri, ClientOptions options) {
        return handshake(uri, options, n -> n.info(uri.exportName()), (ch, info) -> {
            ch.close();
            return info;
        });
    }

    private interface Finisher<T, R> {
        R finish(Channel channel, T negotiated);
    }

    private static <T, R> CompletableFuture<R> handshake(NbdUri uri, ClientOptions options,
                                                         Function<Negotiator, CompletableFuture<T>> negotiation,
                                                         Finisher<T, R> finisher) {
        EventLoopGroup group = options.group() != null ? options.group() : Transport.shared();
        Optional<ClientTls> tls;
        try {
            tls = uri.isTls() ? Optional.of(ClientTls.of(uri)) : Optional.empty();
        } catch (java.io.IOException e) {
            return CompletableFuture.failedFuture(new NbdException("TLS for " + uri + ": " + e.getMessage(), e));
        }
        HandshakeHandler handshake = new HandshakeHandler();
        Bootstrap b = new Bootstrap().group(group).channel(Transport.channelClass(group, uri.isUnix()))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                // Netty 4.2's default (adaptive) allocator takes large READ buffers from allocateDirect.
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("handshake-decoder", new HandshakeClientDecoder(MAX_OPTION_REPLY))
                                .addLast(HandshakeClientEncoder.INSTANCE, handshake);
                    }
                });
        if (!uri.isUnix()) {
            b.option(ChannelOption.TCP_NODELAY, true);
        }
        if (uri.isUnix()) {
            b.option(ChannelOption.SO_SNDBUF, UNIX_SEND_BUFFER);
        }
        CompletableFuture<R> result = new CompletableFuture<>();
        ChannelFuture cf = b.connect(uri.address());
        cf.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new NbdException("cannot connect to " + uri + ": "
                        + Errors.connectFailure(uri, f.cause()), f.cause()));
                return;
            }
            Channel ch = cf.channel();
            negotiation.apply(new Negotiator(handshake, options, tls)).thenApply(t -> finisher.finish(ch, t))
                    .whenComplete((r, t) -> {
                        if (t != null) {
                            ch.close();
                            Throwable cause = Errors.unwrap(t);
                            result.completeExceptionally(cause instanceof NbdException ? cause
                                    : new NbdException(Errors.message(cause), cause));
                        } else {
                            result.complete(r);
                        }
                    });
        });
        return result;
    }

    public ExportInfo info() {
        return info;
    }

    public long size() {
        return info.size();
    }

    /** True when base:allocation was selected, so that {@link #blockStatus} may be sent. */
    public boolean hasBlockStatus() {
        return allocationContext >= 0;
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    /** Requests whose replies are outstanding (read on the event loop for an exact figure). */
    public int inFlight() {
        return transmission.inFlight();
    }

    /**
     * Sends one request as it is, after checking it against the export (flags the
     * server advertised, bounds, alignment, maximum payload). {@code payload} is the
     * WRITE data, owned by the request from now on. The callback runs on the event
     * loop. Safe from any thread; from the event loop, {@code flush} false defers the
     * socket write until the next flush.
     */
    public void submit(int type, int flags, long offset, long length, ByteBuf payload, ReplyCallback<?> callback) {
        send(type, flags, offset, length, payload, callback);
    }

    /** {@link #submit} with the payload as a buffer or a file region. */
    private void send(int type, int flags, long offset, long length, ReferenceCounted payload,
                      ReplyCallback<?> callback) {
        Command c = new Command(type, flags, offset, length, payload, callback, allocationContext);
        String refusal = check(type, flags, offset, length);
        if (refusal != null) {
            c.fail(new NbdException(refusal));
        } else if (channel.eventLoop().inEventLoop()) {
            transmission.submit(c, true);
        } else {
            channel.eventLoop().execute(() -> transmission.submit(c, true));
        }
    }

    /** Why the request must not be sent, or null. */
    private String check(int type, int flags, long offset, long length) {
        String name = Nbd.commandName(type);
        switch (type) {
            case Nbd.NBD_CMD_READ:
                break;
            case Nbd.NBD_CMD_WRITE:
            case Nbd.NBD_CMD_TRIM:
            case Nbd.NBD_CMD_WRITE_ZEROES:
                if (info.readOnly()) {
                    return name + " refused: the export is read-only";
                }
                break;
            case Nbd.NBD_CMD_FLUSH:
                break;
            case Nbd.NBD_CMD_CACHE:
                break;
            case Nbd.NBD_CMD_BLOCK_STATUS:
                if (allocationContext < 0) {
                    return "block status is not available: the server did not select " + Nbd.BASE_ALLOCATION;
                }
                break;
            default:
                return "command " + type + " is not supported by this client";
        }
        String flag = requiredFlag(type, flags);
        if (flag != null) {
            return name + " is not available: the server did not advertise " + flag;
        }
        if (type == Nbd.NBD_CMD_FLUSH) {
            return null;
        }
        if (offset < 0 || length <= 0 || offset + length > info.size()) {
            return name + " of " + length + " bytes at " + offset + " is outside the export (size " + info.size() + ")";
        }
        int a = info.minimumBlock();
        if (offset % a != 0 || (length % a != 0 && offset + length != info.size())) {
            return name + " at " + offset + "+" + length + " is not aligned to the minimum block size " + a;
        }
        if ((type == Nbd.NBD_CMD_READ || type == Nbd.NBD_CMD_WRITE) && length > info.maximumPayload()) {
            return name + " of " + length + " bytes exceeds the maximum payload " + info.maximumPayload();
        }
        return length > 0xFFFFFFFFL && !info.extendedHeaders()
                ? name + " length " + length + " does not fit 32 bits (extended headers were not negotiated)" : null;
    }

    /** The transmission flag that {@code type} with {@code flags} needs and the server did not advertise, or null. */
    private String requiredFlag(int type, int flags) {
        if (type == Nbd.NBD_CMD_FLUSH && !info.has(Nbd.NBD_FLAG_SEND_FLUSH)) {
            return "NBD_FLAG_SEND_FLUSH";
        }
        if (type == Nbd.NBD_CMD_TRIM && !info.has(Nbd.NBD_FLAG_SEND_TRIM)) {
            return "NBD_FLAG_SEND_TRIM";
        }
        if (type == Nbd.NBD_CMD_WRITE_ZEROES && !info.has(Nbd.NBD_FLAG_SEND_WRITE_ZEROES)) {
            return "NBD_FLAG_SEND_WRITE_ZEROES";
        }
        if (type == Nbd.NBD_CMD_CACHE && !info.has(Nbd.NBD_FLAG_SEND_CACHE)) {
            return "NBD_FLAG_SEND_CACHE";
        }
        if ((flags & Nbd.NBD_CMD_FLAG_FUA) != 0 && !info.has(Nbd.NBD_FLAG_SEND_FUA)) {
            return "NBD_FLAG_SEND_FUA";
        }
        if ((flags & Nbd.NBD_CMD_FLAG_FAST_ZERO) != 0 && !info.has(Nbd.NBD_FLAG_SEND_FAST_ZERO)) {
            return "NBD_FLAG_SEND_FAST_ZERO";
        }
        if ((flags & Nbd.NBD_CMD_FLAG_DF) != 0 && !info.has(Nbd.NBD_FLAG_SEND_DF)) {
            return "NBD_FLAG_SEND_DF";
        }
        return null;
    }

    private <T> CompletableFuture<T> request(int type, int flags, long offset, long length, ByteBuf payload) {
        FutureReply<T> f = new FutureReply<>();
        submit(type, flags, offset, length, payload, f);
        return f;
    }

    /**
     * Reads {@code length} bytes at {@code offset}; the caller releases the buffer.
     * The range is widened to the minimum block size and split at the maximum payload.
     */
    public CompletableFuture<ByteBuf> read(long offset, int length) {
        int a = info.minimumBlock();
        long start = offset - offset % a;
        long end = Math.min(roundUp(offset + length, a), Math.max(info.size(), offset + length));
        if (start == offset && end == offset + length && length <= info.maximumPayload()) {
            return request(Nbd.NBD_CMD_READ, 0, offset, length, null);
        }
        List<CompletableFuture<ByteBuf>> parts = new ArrayList<>();
        for (long pos = start; pos < end; pos += info.maximumPayload()) {
            parts.add(request(Nbd.NBD_CMD_READ, 0, pos, Math.min(info.maximumPayload(), end - pos), null));
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).handle((v, t) -> {
            CompositeByteBuf all = channel.alloc().compositeBuffer(parts.size());
            for (CompletableFuture<ByteBuf> p : parts) {
                if (!p.isCompletedExceptionally()) {
                    all.addComponent(true, p.join());
                }
            }
            if (t != null) {
                all.release();
                throw t instanceof CompletionException ? (CompletionException) t : new CompletionException(t);
            }
            ByteBuf slice = all.retainedSlice((int) (offset - start), length);
            all.release();
            return slice;
        });
    }

    /**
     * Writes {@code data} (released by the client) at {@code offset}, split at the
     * maximum payload; with {@code fua} each part is durable before it is answered.
     * Offset and length must be multiples of the minimum block size.
     */
    public CompletableFuture<Void> write(long offset, ByteBuf data, boolean fua) {
        int flags = fua ? Nbd.NBD_CMD_FLAG_FUA : 0;
        int length = data.readableBytes();
        if (length <= info.maximumPayload()) {
            return request(Nbd.NBD_CMD_WRITE, flags, offset, length, data);
        }
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        for (int done = 0; done < length; done += info.maximumPayload()) {
            int n = Math.min(info.maximumPayload(), length - done);
            parts.add(request(Nbd.NBD_CMD_WRITE, flags, offset + done, n, data.retainedSlice(data.readerIndex() + done, n)));
        }
        data.release();
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new));
    }

    /**
     * True when {@link #writeFrom} hands file data to the kernel with sendfile(2): on a
     * plaintext connection. TLS has to encrypt the bytes in user space.
     */
    public boolean canSendFile() {
        return plaintext;
    }

    /**
     * One WRITE of {@code length} bytes of {@code file} from {@code position}, sent from
     * the page cache to the socket by sendfile(2), never copied through user space.
     * The file stays open and must not change until the write completes; it is read
     * on the event loop, by the kernel, so it should be in the page cache already
     * (a cold file makes the event loop wait for the disk). Needs
     * {@link #canSendFile()}; {@code length} at most the maximum payload.
     */
    public CompletableFuture<Void> writeFrom(long offset, FileChannel file, long position, int length, boolean fua) {
        if (!canSendFile()) {
            return CompletableFuture.failedFuture(new NbdException("WRITE from a file needs a plaintext connection"));
        }
        FutureReply<Void> f = new FutureReply<>();
        send(Nbd.NBD_CMD_WRITE, fua ? Nbd.NBD_CMD_FLAG_FUA : 0, offset, length, new FileSlice(file, position, length), f);
        return f;
    }

    public CompletableFuture<Void> flush() {
        return request(Nbd.NBD_CMD_FLUSH, 0, 0, 0, null);
    }

    public CompletableFuture<Void> trim(long offset, long length) {
        return ranged(Nbd.NBD_CMD_TRIM, 0, offset, length);
    }

    /** WRITE_ZEROES; {@code flags} may hold NBD_CMD_FLAG_NO_HOLE, NBD_CMD_FLAG_FAST_ZERO and NBD_CMD_FLAG_FUA. */
    public CompletableFuture<Void> writeZeroes(long offset, long length, int flags) {
        return ranged(Nbd.NBD_CMD_WRITE_ZEROES, flags, offset, length);
    }

    public CompletableFuture<Void> cache(long offset, long length) {
        return ranged(Nbd.NBD_CMD_CACHE, 0, offset, length);
    }

    /**
     * A command without payload over any length: one request with extended headers,
     * else split into aligned pieces that fit the 32-bit length field.
     */
    private CompletableFuture<Void> ranged(int type, int flags, long offset, long length) {
        long max = maxEffect();
        if (length <= max) {
            return request(type, flags, offset, length, null);
        }
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        for (long done = 0; done < length; done += max) {
            parts.add(request(type, flags, offset + done, Math.min(max, length - done), null));
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new));
    }

    /**
     * One BLOCK_STATUS request for base:allocation. The server may describe less
     * than asked (or a little more); {@link #extents} covers a whole range.
     */
    public CompletableFuture<List<Extent>> blockStatus(long offset, long length) {
        return request(Nbd.NBD_CMD_BLOCK_STATUS, 0, offset, Math.min(length, maxEffect()), null);
    }

    /** The longest effect length one request carries here. */
    private long maxEffect() {
        return info.extendedHeaders() ? Long.MAX_VALUE : MAX_EFFECT - MAX_EFFECT % info.minimumBlock();
    }

    /** The allocation of {@code [offset, offset + length)}, asking again until it is all described. */
    public CompletableFuture<List<Extent>> extents(long offset, long length) {
        List<Extent> all = new ArrayList<>();
        return extentsFrom(offset, offset + length, all);
    }

    private CompletableFuture<List<Extent>> extentsFrom(long pos, long end, List<Extent> all) {
        if (pos >= end) {
            return CompletableFuture.completedFuture(all);
        }
        return blockStatus(pos, end - pos).thenCompose(list -> {
            long at = pos;
            for (Extent e : list) {
                long len = Math.min(e.length(), end - at);
                if (len <= 0) {
                    break;
                }
                Extent last = all.isEmpty() ? null : all.get(all.size() - 1);
                if (last != null && last.flags() == e.flags() && last.end() == at) {
                    all.set(all.size() - 1, new Extent(last.offset(), last.length() + len, e.flags()));
                } else {
                    all.add(new Extent(at, len, e.flags()));
                }
                at += len;
            }
            return extentsFrom(at, end, all);
        });
    }

    /** Soft disconnect: lets the requests in flight finish, sends NBD_CMD_DISC and closes. */
    public CompletableFuture<Void> disconnect() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        channel.eventLoop().execute(() -> transmission.disconnect().whenComplete((v, t) -> done.complete(null)));
        return done;
    }

    /** Completes when the connection is gone, for whatever reason. */
    public CompletableFuture<Void> closeFuture() {
        return transmission.closedFuture();
    }

    /** Disconnects softly, or hard after five seconds. */
    @Override
    public void close() {
        try {
            disconnect().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            channel.close().awaitUninterruptibly();
        }
    }

    private static long roundUp(long v, int a) {
        return (v + a - 1) / a * a;
    }
}
