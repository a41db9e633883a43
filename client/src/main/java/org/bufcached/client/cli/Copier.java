package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.bufcached.client.Extent;

/**
 * Copies one endpoint to another with several requests in flight. The source's
 * allocation map splits the work into pieces of at most one request: holes and
 * known-zero ranges become {@link Endpoint#zero} (so holes stay holes), data is
 * read and written (or, from a file to a destination that takes them, sent as a
 * file region), and data that turns out to be all zeroes is zeroed instead. Each
 * lane of the {@link Pipeline} uses its own view of the endpoints, one connection
 * of an export. The copy ends with a flush of the destination.
 */
final class Copier {
    /** A piece of work: a range and whether it is known to read as zeroes. */
    record Piece(long offset, long length, boolean zero) {
    }

    /**
     * Zero ranges carry no payload, so they go in pieces far larger than a data
     * request: one WRITE_ZEROES per GiB instead of one per 2 MiB (the spec lets a
     * client exceed the maximum payload for commands without one).
     */
    static final long ZERO_PIECE = 1L << 30;

    private final Endpoint src;
    private final Endpoint dst;
    private final int depth;
    /** Bytes copied as data, and bytes made zero (holes, zero ranges, data that read as zeroes). */
    private final AtomicLong dataBytes = new AtomicLong();
    private final AtomicLong zeroBytes = new AtomicLong();

    Copier(Endpoint src, Endpoint dst, int depth) {
        this.src = src;
        this.dst = dst;
        this.depth = depth;
    }

    /** The pieces of the extents: data cut at {@code max} bytes, zero ranges at {@link #ZERO_PIECE}. */
    static List<Piece> pieces(List<Extent> extents, int max) {
        List<Piece> pieces = new ArrayList<>();
        for (Extent e : extents) {
            long step = e.zero() ? ZERO_PIECE : max;
            for (long at = e.offset(); at < e.end(); at += step) {
                pieces.add(new Piece(at, Math.min(step, e.end() - at), e.zero()));
            }
        }
        return pieces;
    }

    CompletableFuture<Void> copy(Progress progress) {
        int max = Math.min(src.maxRequest(), dst.maxRequest());
        boolean regions = dst.takesRegions();
        return src.extents(0, src.size()).thenCompose(extents -> {
            List<Piece> pieces = pieces(extents, max);
            Endpoint[] from = lanes(src);
            Endpoint[] to = lanes(dst);
            return Pipeline.run(pieces.size(), depth, (lane, i) -> {
                Piece p = pieces.get(i);
                CompletableFuture<Void> f = p.zero() ? zero(to[lane], p)
                        : from[lane].payload(p.offset(), (int) p.length(), regions).thenCompose(data ->
                                data == Payload.ZERO ? zero(to[lane], p) : to[lane].write(p.offset(), data)
                                        .thenRun(() -> dataBytes.addAndGet(p.length())));
                return f.thenRun(() -> progress.add(p.length()));
            });
        }).thenCompose(v -> dst.flush());
    }

    /** The views of {@code e} for each lane. */
    private Endpoint[] lanes(Endpoint e) {
        Endpoint[] lanes = new Endpoint[depth];
        for (int i = 0; i < depth; i++) {
            lanes[i] = e.forLane(i);
        }
        return lanes;
    }

    private CompletableFuture<Void> zero(Endpoint to, Piece p) {
        return to.zero(p.offset(), p.length()).thenRun(() -> zeroBytes.addAndGet(p.length()));
    }

    long dataBytes() {
        return dataBytes.get();
    }

    long zeroBytes() {
        return zeroBytes.get();
    }

    /**
     * Reads both sides piece by piece and compares the bytes (the JDK compares eight at
     * a time or by vector; a SHA-256 of each side cost far more CPU than the reading,
     * under C1 without its intrinsics); fails naming the first byte that differs. Pieces
     * finish out of order: once a difference is known, the pieces after it are skipped
     * and those before it, already in flight, finish, so the lowest one is named.
     */
    CompletableFuture<Void> verify(Progress progress) {
        int max = Math.min(src.maxRequest(), dst.maxRequest());
        List<Piece> pieces = pieces(List.of(new Extent(0, src.size(), 0)), max);
        Endpoint[] from = lanes(src);
        Endpoint[] to = lanes(dst);
        AtomicLong first = new AtomicLong(Long.MAX_VALUE);
        return Pipeline.run(pieces.size(), depth, (lane, i) -> {
            Piece p = pieces.get(i);
            if (p.offset() > first.get()) {
                return CompletableFuture.completedFuture(null);
            }
            int length = (int) p.length(); // data pieces: at most max
            CompletableFuture<ByteBuf> a = from[lane].read(p.offset(), length);
            CompletableFuture<ByteBuf> b = to[lane].read(p.offset(), length);
            // Both reads finish, failed or not, before anything is compared or released.
            return CompletableFuture.allOf(a, b).handle((v, t) -> {
                try {
                    if (t != null) {
                        throw t instanceof CompletionException ? (CompletionException) t : new CompletionException(t);
                    }
                    int at = a.join().nioBuffer().mismatch(b.join().nioBuffer());
                    if (at >= 0) {
                        first.accumulateAndGet(p.offset() + at, Math::min);
                    } else {
                        progress.add(length);
                    }
                    return null;
                } finally {
                    release(a);
                    release(b);
                }
            });
        }).thenRun(() -> {
            if (first.get() != Long.MAX_VALUE) {
                throw new IllegalStateException("verify failed: byte " + first.get()
                        + " differs between source and destination");
            }
        });
    }

    /** Releases what {@code read} delivered, if it delivered. */
    private static void release(CompletableFuture<ByteBuf> read) {
        if (read.isDone() && !read.isCompletedExceptionally()) {
            read.join().release();
        }
    }
}
