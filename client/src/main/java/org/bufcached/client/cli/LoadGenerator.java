package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;
import org.bufcached.client.NbdClient;
import org.bufcached.client.ReplyCallback;
import org.bufcached.protocol.Nbd;

/**
 * The load of one connection: {@code depth} slots, each a reusable callback that
 * records its latency and sends the next request from the event loop, so steady
 * state allocates no future and takes no lock. The histogram and counters are
 * written by the connection's event loop only; the histogram is read after
 * {@link #stop}, the counters (volatile, one writer) also while it runs, for the
 * live progress line.
 */
final class LoadGenerator {
    private final NbdClient client;
    private final int blockSize;
    private final boolean random;
    private final int readPercent;
    private final ByteBuf writeData;
    private final long blocks;
    private final SplittableRandom rng;
    private final Histogram histogram = new Histogram(3_600_000_000_000L, 3);
    private long nextSequential;
    private volatile boolean stopping;
    private volatile long reads;
    private volatile long writes;
    private int active;
    private Throwable failure;
    private final java.util.concurrent.CompletableFuture<Void> drained = new java.util.concurrent.CompletableFuture<>();

    LoadGenerator(NbdClient client, int blockSize, boolean random, int readPercent, ByteBuf writeData, long seed) {
        this.client = client;
        this.blockSize = blockSize;
        this.random = random;
        this.readPercent = readPercent;
        this.writeData = writeData;
        this.blocks = client.size() / blockSize;
        this.rng = new SplittableRandom(seed);
    }

    /** Starts {@code depth} slots on the connection's event loop. */
    void start(int depth) {
        client.eventLoop().execute(() -> {
            for (int i = 0; i < depth; i++) {
                active++;
                new Slot().next();
            }
        });
    }

    /** Lets the requests in flight finish; completes when the last one has. */
    java.util.concurrent.CompletableFuture<Void> stop() {
        stopping = true;
        return drained;
    }

    Histogram histogram() {
        return histogram;
    }

    long reads() {
        return reads;
    }

    long writes() {
        return writes;
    }

    Throwable failure() {
        return failure;
    }

    private final class Slot implements ReplyCallback<Object> {
        private long started;
        private boolean read;

        void next() {
            if (stopping || failure != null) {
                if (--active == 0) {
                    drained.complete(null);
                }
                return;
            }
            long block = random ? rng.nextLong(blocks) : nextSequential++ % blocks;
            read = readPercent == 100 || (readPercent > 0 && rng.nextInt(100) < readPercent);
            started = System.nanoTime();
            if (read) {
                client.submit(Nbd.NBD_CMD_READ, 0, block * blockSize, blockSize, null, this);
            } else {
                client.submit(Nbd.NBD_CMD_WRITE, 0, block * blockSize, blockSize, writeData.retainedDuplicate(), this);
            }
        }

        @Override
        public void completed(Object result, Throwable error) {
            if (result instanceof ByteBuf) {
                ((ByteBuf) result).release();
            }
            if (error != null) {
                if (failure == null) {
                    failure = error;
                }
            } else {
                histogram.recordValue(System.nanoTime() - started);
                if (read) {
                    reads++;
                } else {
                    writes++;
                }
            }
            next();
        }
    }
}
