package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.bufcached.client.Extent;

/**
 * Copies one endpoint to another with several requests in flight. The source's
 * allocation map splits the work into pieces of at most one request: holes and
 * known-zero ranges become {@link Endpoint#zero} (so holes stay holes), data is
 * read and written, and data that turns out to be all zeroes is zeroed instead.
 * The copy ends with a flush of the destination.
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
        return src.extents(0, src.size()).thenCompose(extents -> {
            List<Piece> pieces = pieces(extents, max);
            return Pipeline.run(pieces.size(), depth, i -> {
                Piece p = pieces.get(i);
                CompletableFuture<Void> f = p.zero() ? zero(p)
                        : src.read(p.offset(), (int) p.length()).thenCompose(data -> isZero(data)
                                ? release(data).thenCompose(v -> zero(p))
                                : dst.write(p.offset(), data).thenRun(() -> dataBytes.addAndGet(p.length())));
                return f.thenRun(() -> progress.add(p.length()));
            });
        }).thenCompose(v -> dst.flush());
    }

    private CompletableFuture<Void> zero(Piece p) {
        return dst.zero(p.offset(), p.length()).thenRun(() -> zeroBytes.addAndGet(p.length()));
    }

    long dataBytes() {
        return dataBytes.get();
    }

    long zeroBytes() {
        return zeroBytes.get();
    }

    /** Compares SHA-256 digests of both sides piece by piece; fails naming the first range that differs. */
    CompletableFuture<Void> verify(Progress progress) {
        int max = Math.min(src.maxRequest(), dst.maxRequest());
        List<Piece> pieces = pieces(List.of(new Extent(0, src.size(), 0)), max);
        return Pipeline.run(pieces.size(), depth, i -> {
            Piece p = pieces.get(i);
            int length = (int) p.length(); // data pieces: at most max
            return src.read(p.offset(), length).thenApply(Copier::digest)
                    .thenCombine(dst.read(p.offset(), length).thenApply(Copier::digest), (a, b) -> {
                        if (!Arrays.equals(a, b)) {
                            throw new IllegalStateException("verify failed: bytes " + p.offset() + "+" + p.length()
                                    + " differ between source and destination");
                        }
                        progress.add(p.length());
                        return null;
                    });
        });
    }

    private static CompletableFuture<Void> release(ByteBuf data) {
        data.release();
        return CompletableFuture.completedFuture(null);
    }

    static boolean isZero(ByteBuf data) {
        int i = data.readerIndex();
        int end = data.writerIndex();
        for (; i + 8 <= end; i += 8) {
            if (data.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < end; i++) {
            if (data.getByte(i) != 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] digest(ByteBuf data) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data.nioBuffer());
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            data.release();
        }
    }
}
