package org.bufcached.daemon;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.bufcached.config.BufcachedConfig;
import org.bufcached.config.ConfigDiff;
import org.bufcached.config.ExportConfig;
import org.bufcached.config.HostPort;
import org.bufcached.config.IoConfig;
import org.bufcached.config.IoEngineName;
import org.bufcached.config.LimitsConfig;
import org.bufcached.config.ListenUnix;
import org.bufcached.daemon.admin.AdminServer;
import org.bufcached.daemon.bitmap.BitmapRegistry;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.cache.BufCacheService;
import org.bufcached.daemon.export.CheckedOpener;
import org.bufcached.daemon.export.ExportOpener;
import org.bufcached.daemon.export.ExportRegistry;
import org.bufcached.daemon.export.CachedBlockStore;
import org.bufcached.daemon.io.BlockingPool;
import org.bufcached.daemon.io.IoEngine;
import org.bufcached.daemon.io.IoLoops;
import org.bufcached.daemon.logging.Logging;
import org.bufcached.daemon.metrics.ConnectionMeters;
import org.bufcached.daemon.metrics.DaemonMeters;
import org.bufcached.daemon.metrics.ExportMeters;
import org.bufcached.daemon.metrics.ReloadMeters;
import org.bufcached.daemon.metrics.MetricsServer;
import org.bufcached.daemon.metrics.PayloadMemoryMeters;
import org.bufcached.daemon.metrics.RequestMeters;
import org.bufcached.daemon.net.Connections;
import org.bufcached.daemon.net.NbdServer;
import org.bufcached.daemon.net.NbdUris;
import org.bufcached.daemon.reload.ExportReconciler;
import org.bufcached.daemon.reload.ReloadTarget;
import org.bufcached.daemon.reload.Reloader;
import org.bufcached.daemon.systemd.InheritedSocket;
import org.bufcached.daemon.systemd.Systemd;
import org.bufcached.daemon.tls.TlsSettings;
import org.bufcached.protocol.server.PayloadMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's lifecycle: open the exports, bind the listeners (or adopt the
 * ones systemd passed), serve, apply reloads, and on shutdown stop accepting,
 * let the requests in flight finish, sync every export and release everything.
 */
public final class Daemon implements ReloadTarget {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);
    /** Reload lines all come from the reloader's logger, as the README says. */
    private static final Logger RELOAD_LOG = LoggerFactory.getLogger(Reloader.class);

    private volatile BufcachedConfig config;
    private final Systemd systemd;
    private final DaemonMeters meters = new DaemonMeters();
    private final RequestMeters requestMeters = new RequestMeters(meters.registry());
    private final ExportRegistry exports = new ExportRegistry();
    private final Connections connections = new Connections();
    private final PayloadMemory payloadMemory;
    private final ExportMeters exportMeters = new ExportMeters(meters.registry(), requestMeters, connections);
    private final ReloadMeters reloadMeters = new ReloadMeters(meters.registry());
    private final CountDownLatch stopped = new CountDownLatch(1);
    private IoEngine engine;
    private BlockingPool pool;
    private IoLoops loops;
    private BufCacheService cache;
    private CheckedOpener opener;
    private NbdServer server;
    private MetricsServer metricsServer;
    private AdminServer adminServer;
    /** What the admin socket's reload runs; set before {@link #start}. */
    private Reloader reloader;
    private volatile boolean ready;
    private volatile boolean stopping;
    /** What made {@link #stop} fail, if anything; read after {@link #stopped}. */
    private volatile Throwable stopFailure;

    /** A daemon that takes sockets, notify socket and watchdog from systemd's environment variables, if set. */
    public Daemon(BufcachedConfig config) {
        this(config, Systemd.current());
    }

    public Daemon(BufcachedConfig config, Systemd systemd) {
        this.config = config;
        this.systemd = systemd;
        this.payloadMemory = new PayloadMemory(payloadMemoryLimit(config.limits()),
                config.limits().payloadTimeout().toNanos());
        ConnectionMeters.bind(meters.registry(), connections);
        PayloadMemoryMeters.bind(meters.registry(), payloadMemory);
    }

    /**
     * Binds every listener and the metrics endpoint, then sets up the engine, the
     * cache and the exports, then starts accepting and tells systemd it is ready;
     * on failure releases what was taken. Ports come first so that a clash is
     * reported before anything slow or large is set up; the kernel queues the
     * connections that arrive before the exports are open.
     *
     * @throws IOException with a message for the operator: what failed and what to do
     */
    public void start() throws IOException {
        try {
            TlsSettings tls = TlsSettings.load(config.tls());
            engine = chooseEngine();
            IoConfig io = config.io();
            server = new NbdServer(engine, exports, connections, requestMeters, payloadMemory,
                    io.eventLoops(), config.limits().handshakeTimeout().toMillis());
            server.tls(tls);
            listen();
            if (config.metrics().enabled()) {
                metricsServer = MetricsServer.start(engine, config.metrics().listen(), meters.registry(),
                        this::notReady);
            }
            if (config.admin().enabled()) {
                adminServer = AdminServer.start(engine, config.admin().socket().orElseThrow(), exports, connections,
                        reloader);
            }
            meters.buildInfo(engine.label());
            int workers = io.workers().orElse(engine == IoEngine.IO_URING ? 2
                    : Math.min(8, Math.max(4, Runtime.getRuntime().availableProcessors())));
            pool = new BlockingPool(workers, "bufcached-io");
            loops = IoLoops.attach(engine, server.eventLoops(), pool);
            LOG.info("I/O engine {}: {} event loops, {} blocking threads{}", engine, io.eventLoops(), workers,
                    IoEngine.why(engine).isEmpty() ? "" : " (" + IoEngine.why(engine) + ")");
            cache = new BufCacheService(config.cache(), loops, meters.registry());
            cache.start();
            opener = new CheckedOpener(new ExportOpener(cache.cache(), new BitmapRegistry()));
            for (ExportConfig e : config.exports()) {
                Export export = opener.open(e);
                exports.add(export);
                exportMeters.add(export);
            }
            LOG.info("{}", tls.description());
            applyLimits(config.limits());
            server.startAccepting();
        } catch (IOException | RuntimeException e) {
            release();
            throw e;
        }
        ready = true;
        logExports();
        systemd.notifier().ready(status());
        systemd.watchdog().ifPresent(systemd.notifier()::startWatchdog);
    }

    /**
     * One line per export with the URIs clients reach it at through every
     * listener, so an operator can copy one: at start and after each reload.
     */
    private void logExports() {
        List<SocketAddress> addresses = server.listeners().stream().map(NbdServer.Listener::address).toList();
        if (exports.all().isEmpty()) {
            LOG.warn("no exports configured: add some under exports: and reload");
        }
        for (Export e : exports.all()) {
            boolean tlsOnly = e.config().tlsOnly(config.tls());
            LOG.info("export '{}': {} ({} bytes{}, {})", e.name(),
                    String.join(" ", NbdUris.of(e.name(), addresses, tlsOnly)), e.size(),
                    e.readOnly() ? ", read-only" : "", e.path());
        }
    }

    /**
     * The configured engine; with {@code auto}, epoll when systemd passes sockets
     * (only epoll channels can serve a socket Netty did not create).
     */
    private IoEngine chooseEngine() {
        IoEngineName name = config.io().engine();
        if (name == IoEngineName.AUTO && !systemd.sockets().isEmpty()) {
            IoEngine chosen = IoEngine.choose("epoll");
            LOG.info("socket activation: the epoll engine serves the sockets systemd passed");
            return chosen;
        }
        return IoEngine.choose(name.yamlName());
    }

    /** The reloader the admin socket's {@code POST /v1/reload} runs; before {@link #start}. */
    public void reloader(Reloader reloader) {
        this.reloader = reloader;
    }

    /** The admin socket, or null when {@code admin} is not configured. */
    public AdminServer adminServer() {
        return adminServer;
    }

    /** The I/O engine running, once started. */
    public IoEngine engine() {
        return engine;
    }

    /** Serves the sockets systemd passed if there are any, else binds the configured listeners. */
    private void listen() throws IOException {
        if (!systemd.sockets().isEmpty()) {
            LOG.info("socket activation: serving the {} sockets systemd passed instead of listen.*",
                    systemd.sockets().size());
            for (InheritedSocket s : systemd.sockets()) {
                if (s.unix()) {
                    server.adoptUnix(s.fd(), s.unixPath());
                } else {
                    server.adoptTcp(s.fd());
                }
            }
            return;
        }
        for (HostPort tcp : config.listen().tcp()) {
            server.bindTcp(tcp.host(), tcp.port());
        }
        for (ListenUnix unix : config.listen().unix()) {
            server.bindUnix(unix.path());
            UnixSocketPermissions.apply(unix);
        }
    }

    private void applyLimits(LimitsConfig limits) {
        connections.limits(limits.maxConnections(), limits.maxConnectionsPerExport());
        server.handshakeLimits(limits.maxHandshaking(), limits.maxHandshakingPerAddress());
        connections.stuckRequest(limits.stuckRequest());
        server.timeouts(limits.handshakeTimeout().toMillis(), limits.idleTimeout().toMillis());
        payloadMemory.limit(payloadMemoryLimit(limits));
        payloadMemory.stallTimeout(limits.payloadTimeout().toNanos());
    }

    /**
     * {@code limits.payload-memory}, else half the direct memory the JVM allows
     * (-XX:MaxDirectMemorySize, or the heap size without it): the other half is
     * left to socket buffers and replies.
     */
    private static long payloadMemoryLimit(LimitsConfig limits) {
        return limits.payloadMemory().orElse(PlatformDependent.maxDirectMemory() / 2);
    }

    @Override
    public BufcachedConfig running() {
        return config;
    }

    /**
     * Applies a reload: TLS credentials (re-read even when the file did not
     * change), exports, limits and the log level now; the rest is logged as
     * needing a restart.
     */
    @Override
    public synchronized void apply(ConfigDiff diff, BufcachedConfig loaded) throws IOException {
        if (stopping) {
            throw new IOException("the daemon is stopping");
        }
        // Read first: bad TLS files reject the reload before anything changed.
        TlsSettings tls = TlsSettings.load(loaded.tls());
        new ExportReconciler(exports, connections, opener, exportMeters).apply(diff, loaded);
        applyLimits(loaded.limits());
        server.tls(tls);
        if (loaded.tls().enabled()) {
            RELOAD_LOG.info("reload: TLS credentials re-read: {}", tls.description());
        }
        if (loaded.cache().size() == config.cache().size() && loaded.cache().bufferSize() == config.cache().bufferSize()) {
            // Watermarks derived from an unchanged cache size apply now; a new size waits for the restart.
            cache.retune(loaded.cache());
        }
        if (loaded.logging().path().isEmpty()) {
            Logging.level(loaded.logging().level());
        }
        config = loaded;
        logExports();
    }

    /** One line for systemd's STATUS= and the logs. */
    @Override
    public String status() {
        return "serving " + exports.all().size() + " exports on " + (server == null ? 0 : server.listeners().size())
                + " listeners, "
                + connections.open() + " connections";
    }

    /** Listeners bound and exports open, and not stopping. */
    public boolean ready() {
        return ready;
    }

    /** What /readyz reports: why the daemon, or one export, is not ready (empty when it is). */
    public java.util.List<String> notReady(String exportName) {
        java.util.List<String> reasons = new java.util.ArrayList<>();
        if (exportName != null) {
            Export e = exports.find(exportName);
            if (e == null || exportName.isEmpty()) {
                return null;
            }
            checkDurability(e, reasons);
            return reasons;
        }
        if (!ready) {
            reasons.add(stopping ? "stopping" : "starting");
        }
        for (Export e : exports.all()) {
            checkDurability(e, reasons);
        }
        return reasons;
    }

    private static void checkDurability(Export e, java.util.List<String> reasons) {
        String state = e.store().durabilityState();
        if (!"clean".equals(state)) {
            reasons.add("export " + e.name() + ": data not proven durable: " + state);
        }
    }

    /** The registry every component registers its meters in; scraped at /metrics. */
    public PrometheusMeterRegistry meterRegistry() {
        return meters.registry();
    }

    /** What the reloader reports each reload's outcome to. */
    public ReloadMeters reloadMeters() {
        return reloadMeters;
    }

    public Systemd systemd() {
        return systemd;
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

    /** The budget of WRITE payload bytes held at once ({@code limits.payload-memory}). */
    public PayloadMemory payloadMemory() {
        return payloadMemory;
    }

    /** The metrics endpoint, or null when {@code metrics.enabled} is false. */
    public MetricsServer metricsServer() {
        return metricsServer;
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
        try {
            drainAndRelease();
        } catch (RuntimeException | Error e) {
            // Whatever broke, the process must still end: main waits for this latch.
            stopFailure = e;
            LOG.error("shutting down failed; exiting anyway", e);
        } finally {
            stopped.countDown();
        }
    }

    private void drainAndRelease() {
        ready = false;
        systemd.notifier().stopping("stopping: " + connections.open() + " connections, "
                + connections.inFlight() + " requests in flight");
        LOG.info("shutting down: {} connections, {} requests in flight", connections.open(), connections.inFlight());
        server.stopAccepting();
        connections.beginShutdown();
        long drainMillis = config.limits().shutdownTimeout().toMillis();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
        while (connections.inFlight() > 0 && System.nanoTime() < deadline) {
            sleep(5);
        }
        if (connections.inFlight() > 0) {
            LOG.warn("{} requests still in flight after {} ms (limits.shutdown-timeout); closing their connections:",
                    connections.inFlight(), drainMillis);
            for (String line : connections.describeInFlight(1000)) {
                LOG.warn("  cut short: {}", line);
            }
        }
        connections.closeAll();
        release();
        LOG.info("stopped");
    }

    /**
     * Closes the stores (each syncs its file, each within its bound, all at once),
     * then the flushers, the endpoint, the event loops and the threads.
     */
    private void release() {
        if (adminServer != null) {
            adminServer.close();
        }
        java.util.List<Thread> closing = new java.util.ArrayList<>();
        for (Export e : exports.snapshot()) {
            exports.remove(e.name());
            exportMeters.remove(e.name());
            Thread t = new Thread(e.store()::close, "bufcached-close-" + e.name());
            t.setDaemon(true);
            t.start();
            closing.add(t);
        }
        for (Thread t : closing) {
            try {
                t.join(2 * CachedBlockStore.CLOSE_MILLIS + 1000);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                LOG.error("{} did not finish; exiting without it", t.getName());
            }
        }
        if (cache != null) {
            cache.close();
        }
        if (metricsServer != null) {
            metricsServer.close();
        }
        if (server != null) {
            server.close();
        }
        if (loops != null) {
            loops.close();
        } else if (pool != null) {
            pool.close();
        }
        meters.close();
        systemd.notifier().close();
    }

    /** Waits for {@link #stop} to end; returns whether it ended cleanly. */
    public boolean awaitStopped() throws InterruptedException {
        stopped.await();
        return stopFailure == null;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
