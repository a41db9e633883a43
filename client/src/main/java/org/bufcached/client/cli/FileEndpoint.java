package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.UncheckedIOException;
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
 * holes. Reads run on threads of their own (positional reads, so several at
 * once), never on the network side's event loop, which then only moves bytes
 * to the socket; writes are synchronous on the thread that delivers the data.
 */
final class FileEndpoint implements Endpoint {
    private static final int MAX_REQUEST = 2 << 20;
    /** Readers: enough to keep a page-cache copy going while the event loop sends. */
    private static final int READERS = 2;
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final ExecutorService readers;

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
            return new FileEndpoint(path, ch, ch.size());
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
        try {
            return CompletableFuture.completedFuture(Holes.map(path, size).stream()
                    .filter(e -> e.end() > offset && e.offset() < offset + length)
                    .map(e -> {
                        long s = Math.max(e.offset(), offset);
                        return new Extent(s, Math.min(e.end(), offset + length) - s, e.flags());
                    }).toList());
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<ByteBuf> read(long offset, int length) {
        CompletableFuture<ByteBuf> read = new CompletableFuture<>();
        readers.execute(() -> {
            ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(length);
            try {
                while (buf.writableBytes() > 0) {
                    int n = buf.writeBytes(channel, offset + buf.writerIndex(), buf.writableBytes());
                    if (n < 0) {
                        throw new IOException(path + ": unexpected end of file at " + (offset + buf.writerIndex()));
                    }
                }
                read.complete(buf);
            } catch (IOException | RuntimeException e) {
                buf.release();
                read.completeExceptionally(e);
            }
        });
        return read;
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuf data) {
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
