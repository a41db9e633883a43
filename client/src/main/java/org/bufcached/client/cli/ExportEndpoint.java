package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.bufcached.client.Extent;
import org.bufcached.client.NbdClient;
import org.bufcached.protocol.Nbd;

/** An export as a copy endpoint: block status when offered, WRITE_ZEROES (may punch holes) when advertised. */
final class ExportEndpoint implements Endpoint {
    private static final int MAX_REQUEST = 2 << 20;
    private final NbdClient client;

    ExportEndpoint(NbdClient client) {
        this.client = client;
    }

    @Override
    public long size() {
        return client.size();
    }

    @Override
    public int maxRequest() {
        int max = Math.min(MAX_REQUEST, client.info().maximumPayload());
        return Math.max(max - max % client.info().preferredBlock(), client.info().minimumBlock());
    }

    @Override
    public CompletableFuture<List<Extent>> extents(long offset, long length) {
        return client.hasBlockStatus() ? client.extents(offset, length)
                : CompletableFuture.completedFuture(List.of(new Extent(offset, length, 0)));
    }

    @Override
    public CompletableFuture<ByteBuf> read(long offset, int length) {
        return client.read(offset, length);
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuf data) {
        return client.write(offset, data, false);
    }

    @Override
    public CompletableFuture<Void> zero(long offset, long length) {
        if (client.info().has(Nbd.NBD_FLAG_SEND_WRITE_ZEROES)) {
            return client.writeZeroes(offset, length, 0);
        }
        return client.write(offset, Unpooled.wrappedBuffer(new byte[(int) length]), false);
    }

    @Override
    public CompletableFuture<Void> flush() {
        return client.info().has(Nbd.NBD_FLAG_SEND_FLUSH) ? client.flush() : CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        client.close();
    }
}
