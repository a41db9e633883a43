package org.bufcached.daemon.reload;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.bufcached.daemon.export.BlockStore;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.cache.CacheCallback;
import org.bufcached.daemon.net.Connections;
import org.bufcached.daemon.net.ExportConnections;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes an export that left the registry out of service the way a client's
 * FLUSH then disconnect would: its connections get NBD_ESHUTDOWN for new
 * requests, the requests in flight are answered, the store is flushed, then the
 * connections are closed and the store released.
 */
final class ExportDrain {
    private static final Logger LOG = LoggerFactory.getLogger(Reloader.class);
    private final Export export;
    private final Connections connections;
    private final ExportConnections group;
    /** {@code limits.shutdown-timeout}: how long requests in flight and the flush may take before the connections close. */
    private final long drainMillis;

    private ExportDrain(Export export, Connections connections, ExportConnections group, long drainMillis) {
        this.export = export;
        this.connections = connections;
        this.group = group;
        this.drainMillis = drainMillis;
    }

    /** Stops new requests on the export's connections (new ones can no longer join). */
    static ExportDrain begin(Export export, Connections connections, java.time.Duration drain) {
        ExportConnections group = connections.of(export.store());
        if (group != null) {
            group.beginDrain();
        }
        return new ExportDrain(export, connections, group, drain.toMillis());
    }

    /** Waits for the requests in flight, flushes, closes the connections and the store. */
    void finish() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
        int open = 0;
        if (group != null) {
            while (group.inFlight() > 0 && System.nanoTime() < deadline) {
                sleep();
            }
            if (group.inFlight() > 0) {
                LOG.warn("export {}: {} requests still in flight after {} ms; closing anyway", export.name(),
                        group.inFlight(), drainMillis);
            }
        }
        flush(export.store(), deadline);
        if (group != null) {
            open = group.open();
            group.closeAll();
        }
        export.store().close();
        connections.forget(export.store());
        LOG.info("export {} drained: {} connections closed, store flushed and released", export.name(), open);
    }

    private void flush(BlockStore store, long deadline) {
        CompletableFuture<Void> flushed = new CompletableFuture<>();
        store.flush(new CacheCallback() {
            @Override
            public void done(ByteBuf data) {
                flushed.complete(null);
            }

            @Override
            public void failed(Throwable cause) {
                flushed.completeExceptionally(cause);
            }
        });
        try {
            flushed.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            // The store's close syncs once more; the connections are closed either way.
            LOG.error("export {}: flush before removal failed: {}", export.name(), e.getCause().getMessage());
        } catch (TimeoutException e) {
            LOG.error("export {}: flush before removal did not finish within {} ms", export.name(), drainMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
