package org.bufcached.daemon;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.bufcached.config.BufcachedConfig;
import org.bufcached.config.ExportConfig;
import org.bufcached.config.HostPort;
import org.bufcached.config.ListenUnix;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.export.ExportOpener;
import org.bufcached.daemon.export.ExportRegistry;
import org.bufcached.daemon.export.IoWorkers;
import org.bufcached.daemon.net.Connections;
import org.bufcached.daemon.net.NbdServer;
import org.bufcached.daemon.net.RequestObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's lifecycle: open the exports, bind the listeners, serve, and on
 * shutdown stop accepting, let the requests in flight finish, sync every export
 * and release everything.
 */
public final class Daemon {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);
    /** How long shutdown waits for requests in flight before closing their connections. */
    private static final long DRAIN_MILLIS = 30_000;

    private final BufcachedConfig config;
    private final ExportRegistry exports = new ExportRegistry();
    private final Connections connections = new Connections();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private IoWorkers workers;
    private NbdServer server;
    private volatile boolean stopping;

    public Daemon(BufcachedConfig config) {
        this.config = config;
    }

    /** Opens every export and binds every listener; on failure releases what was taken. */
    public void start() throws IOException {
        try {
            workers = new IoWorkers(config.cache().ioWorkers());
            ExportOpener opener = new ExportOpener(workers);
            for (ExportConfig e : config.exports()) {
                Export export = opener.open(e);
                exports.add(export);
                LOG.info("export {}: {} bytes at {}{}", export.name(), export.size(), export.path(),
                        export.readOnly() ? " (read-only)" : "");
            }
            server = new NbdServer(exports, connections, RequestObserver.NONE,
                    Runtime.getRuntime().availableProcessors(), config.limits().handshakeTimeout().toMillis());
            for (HostPort tcp : config.listen().tcp()) {
                server.bindTcp(tcp.host(), tcp.port());
            }
            for (ListenUnix unix : config.listen().unix()) {
                server.bindUnix(unix.path());
                UnixSocketPermissions.apply(unix);
            }
        } catch (IOException | RuntimeException e) {
            release();
            throw e;
        }
    }

    public ExportRegistry exports() {
        return exports;
    }

    public Connections connections() {
        return connections;
    }

    public NbdServer server() {
        return server;
    }

    /**
     * Graceful stop: no new connections, new requests answered NBD_ESHUTDOWN, the
     * requests in flight answered, every export synced to stable storage.
     */
    public void stop() {
        synchronized (this) {
            if (stopping) {
                return;
            }
            stopping = true;
        }
        LOG.info("shutting down: {} connections, {} requests in flight", connections.open(), connections.inFlight());
        server.stopAccepting();
        connections.beginShutdown();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_MILLIS);
        while (connections.inFlight() > 0 && System.nanoTime() < deadline) {
            sleep(5);
        }
        if (connections.inFlight() > 0) {
            LOG.warn("{} requests still in flight after {} ms; closing their connections",
                    connections.inFlight(), DRAIN_MILLIS);
        }
        connections.closeAll();
        release();
        LOG.info("stopped");
        stopped.countDown();
    }

    /** Closes the stores (each syncs its file), the listeners and the threads. */
    private void release() {
        for (Export e : exports.snapshot()) {
            exports.remove(e.name());
            e.store().close();
        }
        if (server != null) {
            server.close();
        }
        if (workers != null) {
            workers.close();
        }
    }

    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
