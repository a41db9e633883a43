package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.bufcached.client.ClientOptions;
import org.bufcached.client.Extent;
import org.bufcached.client.NbdClient;
import org.bufcached.client.NbdUri;
import org.bufcached.protocol.Nbd;

/**
 * An export as a copy endpoint: block status when offered, WRITE_ZEROES (may
 * punch holes) when advertised. When the server advertises CAN_MULTI_CONN it
 * opens several connections, as nbdcopy does, and spreads the requests over
 * them round robin: each connection has its own socket and event loop, so the
 * bytes move in parallel. One FLUSH then covers the writes of all of them, as
 * the spec promises for CAN_MULTI_CONN.
 */
final class ExportEndpoint implements Endpoint {
    private static final int MAX_REQUEST = 256 << 10;
    /** The first connection: its handshake decides the export's size and abilities. */
    private final NbdClient client;
    private final List<NbdClient> all;
    private final AtomicInteger next = new AtomicInteger();

    private ExportEndpoint(List<NbdClient> all) {
        this.client = all.get(0);
        this.all = all;
    }

    /** Connects to {@code uri}, with up to {@code connections} connections if the export allows several. */
    static ExportEndpoint open(NbdUri uri, ClientOptions options, int connections) throws Exception {
        List<NbdClient> clients = new ArrayList<>();
        clients.add(NbdClient.connect(uri, options).get());
        try {
            if (clients.get(0).info().has(Nbd.NBD_FLAG_CAN_MULTI_CONN)) {
                for (int i = 1; i < connections; i++) {
                    clients.add(NbdClient.connect(uri, options).get());
                }
            }
        } catch (Exception e) {
            clients.forEach(NbdClient::close);
            throw e;
        }
        return new ExportEndpoint(clients);
    }

    /** The connection for the next request. */
    private NbdClient any() {
        return all.get(Math.floorMod(next.getAndIncrement(), all.size()));
    }

    @Override
    public int connections() {
        return all.size();
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
        return any().read(offset, length);
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuf data) {
        return any().write(offset, data, false);
    }

    @Override
    public CompletableFuture<Void> zero(long offset, long length) {
        if (client.info().has(Nbd.NBD_FLAG_SEND_WRITE_ZEROES)) {
            return any().writeZeroes(offset, length, 0);
        }
        // No WRITE_ZEROES: plain writes of one shared buffer of zeroes, a request at a time in size.
        byte[] zeroes = new byte[(int) Math.min(length, maxRequest())];
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (long done = 0; done < length; done += zeroes.length) {
            int n = (int) Math.min(zeroes.length, length - done);
            writes.add(any().write(offset + done, Unpooled.wrappedBuffer(zeroes, 0, n), false));
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
    }

    @Override
    public CompletableFuture<Void> flush() {
        return client.info().has(Nbd.NBD_FLAG_SEND_FLUSH) ? client.flush() : CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        all.forEach(NbdClient::close);
    }
}
