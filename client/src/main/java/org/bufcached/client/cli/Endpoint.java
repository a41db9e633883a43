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

    /**
     * This endpoint as lane {@code lane} of a copy uses it (see {@link Pipeline}): the
     * same data, perhaps over one connection of several. Not to be closed.
     */
    default Endpoint forLane(int lane) {
        return this;
    }

    /** Data, hole and zero extents of the range; a single data extent where nothing is known. */
    CompletableFuture<List<Extent>> extents(long offset, long length);

    /** The bytes of the range; the caller releases them. */
    CompletableFuture<ByteBuf> read(long offset, int length);

    /**
     * The range as a copy moves it: {@link Payload#ZERO} when it reads as zeroes, else its
     * bytes, or a {@link Payload.Region} of a file where {@code regions} allows one.
     */
    default CompletableFuture<Payload> payload(long offset, int length, boolean regions) {
        return read(offset, length).thenApply(Payload::of);
    }

    /** True when {@link #write} takes a {@link Payload.Region} and sends it without reading it (sendfile). */
    default boolean takesRegions() {
        return false;
    }

    /** Writes {@code data} (bytes, which the endpoint releases, or a region it may take). */
    CompletableFuture<Void> write(long offset, Payload data);

    /** Makes the range read as zeroes, as a hole where the endpoint can. */
    CompletableFuture<Void> zero(long offset, long length);

    /** Makes everything written durable (FLUSH, fsync). */
    CompletableFuture<Void> flush();

    @Override
    void close() throws Exception;
}
