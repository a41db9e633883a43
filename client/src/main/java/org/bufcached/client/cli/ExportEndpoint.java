package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bufcached.client.ClientOptions;
import org.bufcached.client.Extent;
import org.bufcached.client.NbdClient;
import org.bufcached.client.NbdUri;
import org.bufcached.client.Transport;
import org.bufcached.protocol.Nbd;

/**
 * An export as a copy endpoint: block status when offered, WRITE_ZEROES (may
 * punch holes) when advertised, WRITEs by sendfile from a file source over
 * plaintext. When the server advertises CAN_MULTI_CONN it opens several
 * connections, as nbdcopy does, and spreads the requests over them by lane
 * ({@link #forLane}): each connection has its own socket and event loop, so the
 * bytes move in parallel. The copy ends with a FLUSH on each ({@link #flush}).
 */
final class ExportEndpoint implements Endpoint {
    /**
     * Data requests of 1 MiB. With WRITEs by sendfile the client's cost is per request
     * rather than per byte, and bufcached spends less CPU on 1 MiB than on 256 KiB
     * (more requests) or 2 MiB (measured on a 4 GiB copy).
     */
    private static final int MAX_REQUEST = 1 << 20;
    /** The first connection: its handshake decides the export's size and abilities. */
    private final NbdClient client;
    private final List<NbdClient> all;
    /** The connection this view sends its requests on (the first one for the endpoint itself). */
    private final NbdClient connection;
    /** The connections' event loops, shut down with them; null in a lane's view. */
    private final EventLoopGroup loops;

    private ExportEndpoint(List<NbdClient> all, NbdClient connection, EventLoopGroup loops) {
        this.client = all.get(0);
        this.all = all;
        this.connection = connection;
        this.loops = loops;
    }

    /**
     * Connects to {@code uri}, with up to {@code connections} connections if the export
     * allows several, each on an event loop of its own: on a busy machine a connection
     * then waits for no other to be served.
     */
    static ExportEndpoint open(NbdUri uri, ClientOptions options, int connections) throws Exception {
        EventLoopGroup loops = Transport.newGroup(connections);
        try {
            return open(uri, options.withGroup(loops), connections, loops);
        } catch (Exception | Error e) {
            Transport.shutdown(loops);
            throw e;
        }
    }

    private static ExportEndpoint open(NbdUri uri, ClientOptions options, int connections, EventLoopGroup loops)
            throws Exception {
        NbdClient first = NbdClient.connect(uri, options).get();
        List<CompletableFuture<NbdClient>> more = new ArrayList<>();
        if (first.info().has(Nbd.NBD_FLAG_CAN_MULTI_CONN)) {
            for (int i = 1; i < connections; i++) {
                more.add(NbdClient.connect(uri, options)); // all at once: each handshake is a few round trips
            }
        }
        List<NbdClient> clients = new ArrayList<>(List.of(first));
        Exception failure = null;
        for (CompletableFuture<NbdClient> f : more) {
            try {
                clients.add(f.get());
            } catch (Exception e) {
                failure = failure == null ? e : failure;
            }
        }
        if (failure != null) {
            clients.forEach(NbdClient::close);
            throw failure;
        }
        return new ExportEndpoint(clients, first, loops);
    }

    /**
     * Lane {@code lane} keeps to one connection: a reply then starts the lane's next
     * request on the same event loop, with no hand-over between threads. The view
     * shares the connections; only this endpoint closes them.
     */
    @Override
    public Endpoint forLane(int lane) {
        return new ExportEndpoint(all, all.get(lane % all.size()), null);
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
        return connection.read(offset, length);
    }

    /** With plaintext connections: sendfile for every connection's WRITEs. */
    @Override
    public boolean takesRegions() {
        return all.stream().allMatch(NbdClient::canSendFile);
    }

    @Override
    public CompletableFuture<Void> write(long offset, Payload data) {
        if (data instanceof Payload.Region r) {
            return connection.writeFrom(offset, r.file(), r.position(), r.length(), false);
        }
        return connection.write(offset, ((Payload.Bytes) data).data(), false);
    }

    @Override
    public CompletableFuture<Void> zero(long offset, long length) {
        if (client.info().has(Nbd.NBD_FLAG_SEND_WRITE_ZEROES)) {
            return connection.writeZeroes(offset, length, 0);
        }
        // No WRITE_ZEROES: plain writes of one shared buffer of zeroes, a request at a time in size.
        byte[] zeroes = new byte[(int) Math.min(length, maxRequest())];
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (long done = 0; done < length; done += zeroes.length) {
            int n = (int) Math.min(zeroes.length, length - done);
            writes.add(connection.write(offset + done, Unpooled.wrappedBuffer(zeroes, 0, n), false));
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
    }

    /**
     * A FLUSH on every connection, at once, as nbdcopy sends them. With CAN_MULTI_CONN
     * one would do; but bufcached paces its write-back by the interval between a file's
     * syncs, and one FLUSH at the end of each copy reads to it as a client syncing every
     * few seconds, so that the next copy ran beside a write-back ahead of it (measured:
     * 10% slower against bufcached than with a FLUSH per connection).
     */
    @Override
    public CompletableFuture<Void> flush() {
        if (!client.info().has(Nbd.NBD_FLAG_SEND_FLUSH)) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.allOf(all.stream().map(NbdClient::flush).toArray(CompletableFuture[]::new));
    }

    @Override
    public void close() {
        if (loops == null) {
            throw new IllegalStateException("a lane's view does not own the connections");
        }
        // All at once: each waits for its replies in flight and the server's close.
        CompletableFuture.allOf(all.stream().map(NbdClient::disconnect).toArray(CompletableFuture[]::new))
                .completeOnTimeout(null, 5, TimeUnit.SECONDS).join();
        all.forEach(NbdClient::close);
        Transport.shutdown(loops);
    }
}
