package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.bufcached.client.Errors;
import org.bufcached.client.Extent;
import org.bufcached.client.sys.Holes;

/**
 * A local file as a copy endpoint. As a destination it is created (or truncated)
 * sparse at the source's size, so zero ranges are simply not written and stay
 * holes. Reads into memory run on threads of their own (positional reads, so
 * several at once), off the network side's event loops; a source whose
 * destination sends file regions is read by the kernel instead (sendfile), after a
 * small probe ({@link #payload}). Writes are synchronous on the thread that
 * delivers the data.
 */
final class FileEndpoint implements Endpoint {
    private static final int MAX_REQUEST = 2 << 20;
    /** Readers: enough to keep a page-cache copy going while the event loop sends. */
    private static final int READERS = 2;
    /** How much of a data range is read to see whether it may be all zeroes. */
    private static final int PROBE = 4096;
    /** Each thread's probe buffer. */
    private static final ThreadLocal<ByteBuffer> PROBES = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(PROBE));
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final ExecutorService readers;
    /** The allocation map once asked for; guarded by this. */
    private CompletableFuture<List<Extent>> map;

    private FileEndpoint(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.readers = Executors.newFixedThreadPool(READERS, r -> {
            Thread t = new Thread(r, "file-read");
            t.setDaemon(true);
            return t;
        });
    }

    /** Opens {@code path} to copy from; fails with what went wrong in words, naming the file. */
    static FileEndpoint source(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw new IOException("cannot read source " + path + ": it is a directory");
        }
        try {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            FileEndpoint source = new FileEndpoint(path, ch, ch.size());
            source.map();
            return source;
        } catch (IOException e) {
            throw new IOException("cannot read source " + path + ": " + Errors.fileFailure(e), e);
        }
    }

    /** Creates or truncates {@code path} at {@code size}, sparse; fails naming the file and the reason. */
    static FileEndpoint destination(Path path, long size) throws IOException {
        try {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING);
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(path.toFile(), "rw")) {
                f.setLength(size);
            }
            return new FileEndpoint(path, ch, size);
        } catch (IOException e) {
            throw new IOException("cannot write destination " + path + ": " + Errors.fileFailure(e), e);
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int maxRequest() {
        return MAX_REQUEST;
    }

    @Override
    public CompletableFuture<List<Extent>> extents(long offset, long length) {
        return map().thenApply(map -> map.stream()
                .filter(e -> e.end() > offset && e.offset() < offset + length)
                .map(e -> {
                    long s = Math.max(e.offset(), offset);
                    return new Extent(s, Math.min(e.end(), offset + length) - s, e.flags());
                }).toList());
    }

    /**
     * The file's holes, mapped once on a reader thread. A source starts at once, so
     * that loading the native calls overlaps connecting to the destination.
     */
    private synchronized CompletableFuture<List<Extent>> map() {
        if (map == null) {
            CompletableFuture<List<Extent>> f = new CompletableFuture<>();
            readers.execute(() -> {
                try {
                    f.complete(Holes.map(path, size));
                } catch (IOException | RuntimeException e) {
                    f.completeExceptionally(e);
                }
            });
            map = f;
        }
        return map;
    }

    @Override
    public CompletableFuture<ByteBuf> read(long offset, int length) {
        CompletableFuture<ByteBuf> read = new CompletableFuture<>();
        readers.execute(() -> {
            try {
                read.complete(readFully(offset, length));
            } catch (IOException | RuntimeException e) {
                read.completeExceptionally(e);
            }
        });
        return read;
    }

    /**
     * With {@code regions}, only the first {@link #PROBE} bytes are read, on the calling
     * thread: when they are not all zero the range is data, and goes as a region that
     * the destination sends without reading it into memory. The caller is then often
     * the event loop that sends it, which reads the range's pages by sendfile anyway;
     * the probe costs it one small read of the first of them. A range that starts with
     * zeroes is read whole and checked on a reader thread.
     */
    @Override
    public CompletableFuture<Payload> payload(long offset, int length, boolean regions) {
        try {
            if (regions && !probeIsZero(offset, length)) {
                return CompletableFuture.completedFuture(new Payload.Region(channel, offset, length));
            }
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        return read(offset, length).thenApply(Payload::of);
    }

    /** True when the first bytes of the range are zero; read into the calling thread's probe buffer. */
    private boolean probeIsZero(long offset, int length) throws IOException {
        ByteBuffer probe = PROBES.get().clear().limit(Math.min(PROBE, length));
        while (probe.hasRemaining()) {
            if (channel.read(probe, offset + probe.position()) < 0) {
                throw new IOException(path + ": unexpected end of file at " + (offset + probe.position()));
            }
        }
        return Payload.isZero(probe.flip());
    }

    private ByteBuf readFully(long offset, int length) throws IOException {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(length);
        try {
            while (buf.writableBytes() > 0) {
                if (buf.writeBytes(channel, offset + buf.writerIndex(), buf.writableBytes()) < 0) {
                    throw new IOException(path + ": unexpected end of file at " + (offset + buf.writerIndex()));
                }
            }
            return buf;
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e;
        }
    }

    @Override
    public CompletableFuture<Void> write(long offset, Payload payload) {
        ByteBuf data = ((Payload.Bytes) payload).data(); // takesRegions() is false: never a region
        try {
            int at = 0;
            while (data.isReadable()) {
                at += data.readBytes(channel, offset + at, data.readableBytes());
            }
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            data.release();
        }
    }

    @Override
    public CompletableFuture<Void> zero(long offset, long length) {
        return CompletableFuture.completedFuture(null); // freshly truncated: the range is a hole already
    }

    @Override
    public CompletableFuture<Void> flush() {
        try {
            channel.force(false);
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        readers.shutdown();
        channel.close();
    }
}
