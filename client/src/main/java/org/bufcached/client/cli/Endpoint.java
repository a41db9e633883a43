package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.bufcached.client.Extent;

/** One side of a copy: an export or a local file, behind the same asynchronous calls. */
interface Endpoint extends AutoCloseable {
    long size();

    /** The largest request worth making, aligned to the endpoint's block size. */
    int maxRequest();

    /** Connections the requests are spread over; 1 for a file. */
    default int connections() {
        return 1;
    }

    /** Data, hole and zero extents of the range; a single data extent where nothing is known. */
    CompletableFuture<List<Extent>> extents(long offset, long length);

    /** The bytes of the range; the caller releases them. */
    CompletableFuture<ByteBuf> read(long offset, int length);

    /** Writes {@code data}, which the endpoint releases. */
    CompletableFuture<Void> write(long offset, ByteBuf data);

    /** Makes the range read as zeroes, as a hole where the endpoint can. */
    CompletableFuture<Void> zero(long offset, long length);

    /** Makes everything written durable (FLUSH, fsync). */
    CompletableFuture<Void> flush();

    @Override
    void close() throws Exception;
}
