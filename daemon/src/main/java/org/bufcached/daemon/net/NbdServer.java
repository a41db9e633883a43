package org.bufcached.daemon.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.export.ExportRegistry;
import org.bufcached.daemon.io.DataBuffers;
import org.bufcached.daemon.io.IoEngine;
import org.bufcached.daemon.tls.TlsSettings;
import org.bufcached.protocol.server.HandshakeDecoder;
import org.bufcached.protocol.server.HandshakeEncoder;
import org.bufcached.protocol.server.PayloadMemory;
import org.bufcached.protocol.server.PayloadReceiver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NBD listeners: TCP and Unix domain sockets served by one event loop per core.
 * Each accepted connection starts in the handshake and moves to transmission.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);
    /**
     * The send buffer of a Unix connection. The kernel's default (net.core.wmem_default, 208 KiB) holds a
     * fifth of a 1 MiB READ reply: the rest waited for the socket to drain, a poll and a wake-up of the
     * client per fifth. TCP sizes its buffers itself. The kernel caps this at net.core.wmem_max.
     */
    private static final int UNIX_SEND_BUFFER = 4 << 20;
    /** Option data accepted in one option; more is skipped and answered NBD_REP_ERR_TOO_BIG. */
    static final int MAX_OPTION_DATA = 64 * 1024;
    /** Name of the connection log, the first handler: TLS goes right behind it. */
    static final String LOG_HANDLER = "log";

    private final IoEngine engine;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ExportRegistry exports;
    private final Connections connections;
    private final RequestObserver observer;
    private final PayloadMemory payloadMemory;
    private final HandshakeLimits handshakeLimits = new HandshakeLimits(Integer.MAX_VALUE, Integer.MAX_VALUE);
    private final AcceptRefusals refusals;
    private volatile long handshakeTimeoutMillis;
    /** {@code limits.idle-timeout}; 0 leaves idle connections open. */
    private volatile long idleTimeoutMillis;
    /** TLS for connections accepted from now on. */
    private volatile TlsSettings tls = TlsSettings.OFF;
    /** Guarded by {@code this}: the listening channels, and whether they accept yet. */
    private final List<Listener> listeners = new ArrayList<>();
    private boolean accepting;
    /** Socket files to remove when listening stops; touched only by the thread that starts and stops the daemon. */
    private final List<Path> socketFiles = new ArrayList<>();

    /**
     * A listening socket and the address clients reach it at: the bound TCP
     * address, or the Unix socket's path.
     */
    public record Listener(Channel channel, SocketAddress address) {
    }

    public NbdServer(IoEngine engine, ExportRegistry exports, Connections connections, RequestObserver observer,
                     PayloadMemory payloadMemory, int eventLoops, long handshakeTimeoutMillis) {
        this.engine = engine;
        this.exports = exports;
        this.connections = connections;
        this.observer = observer;
        this.payloadMemory = payloadMemory;
        this.refusals = new AcceptRefusals(connections);
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
        this.boss = engine.newGroup(1, new DefaultThreadFactory("nbd-accept", true));
        this.workers = engine.newGroup(eventLoops, new DefaultThreadFactory("nbd-loop", true));
    }

    /** Applies new timeouts to connections accepted from now on. */
    public void timeouts(long handshakeTimeoutMillis, long idleTimeoutMillis) {
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
        this.idleTimeoutMillis = idleTimeoutMillis;
    }

    /**
     * Applies {@code limits.max-handshaking} and {@code limits.max-handshaking-per-address}
     * to connections accepted from now on.
     */
    public void handshakeLimits(int perListener, int perAddress) {
        handshakeLimits.set(perListener, perAddress);
    }

    /** Applies new TLS settings (mode, credentials) to connections accepted from now on. */
    public void tls(TlsSettings settings) {
        this.tls = settings;
    }

    public EventLoopGroup eventLoops() {
        return workers;
    }

    public IoEngine engine() {
        return engine;
    }

    /**
     * Binds a TCP listener. Until {@link #startAccepting} it only queues
     * connections in the kernel's backlog, so ports can be taken before the
     * exports are open. Fails with a message naming the address and saying what
     * to do.
     */
    public SocketAddress bindTcp(String host, int port) throws IOException {
        return bind(engine.tcpServerChannel(), new InetSocketAddress(host, port), "tcp " + host + ":" + port);
    }

    /** Binds a Unix domain socket listener, replacing a stale socket file. */
    public SocketAddress bindUnix(Path path) throws IOException {
        Path abs = path.toAbsolutePath();
        String what = "unix " + abs;
        try {
            if (abs.getParent() != null) {
                Files.createDirectories(abs.getParent());
            }
            if (Files.exists(abs) && !Files.isDirectory(abs)) {
                Files.delete(abs);
            }
        } catch (IOException e) {
            throw new IOException(BindErrors.explain(what, e), e);
        }
        SocketAddress bound = bind(engine.unixServerChannel(), new DomainSocketAddress(abs.toString()), what);
        socketFiles.add(abs);
        return bound;
    }

    /**
     * Serves an already listening TCP socket inherited from systemd (socket
     * activation) instead of binding one.
     */
    public SocketAddress adoptTcp(int fd) throws IOException {
        requireAdoption();
        return adopt(new EpollServerSocketChannel(fd), null, "inherited tcp socket (fd " + fd + ")");
    }

    /**
     * Serves an already listening Unix domain socket inherited from systemd; its
     * file is systemd's to remove. {@code path} (from getsockname) is for the
     * URIs in the log: a socket made elsewhere has no address Netty can report.
     */
    public SocketAddress adoptUnix(int fd, String path) throws IOException {
        requireAdoption();
        // Only this constructor marks the channel active: the one without the flag leaves it never accepting.
        return adopt(new EpollServerDomainSocketChannel(fd, true), new DomainSocketAddress(path),
                "inherited unix socket " + path + " (fd " + fd + ")");
    }

    /** Netty can serve a socket it did not create only with epoll channels (io_uring's have no such constructor). */
    private void requireAdoption() {
        if (!engine.adoptsSockets()) {
            throw new IllegalStateException("socket activation needs the epoll engine, not " + engine
                    + " (io.engine: auto picks epoll when systemd passes sockets)");
        }
    }

    private SocketAddress adopt(ServerChannel channel, SocketAddress unixAddress, String what) throws IOException {
        ServerBootstrap b = bootstrap(unixAddress == null).channelFactory((ChannelFactory<ServerChannel>) () -> channel);
        try {
            // Registering an already listening channel is all it takes; there is nothing to bind.
            Channel ch = b.register().syncUninterruptibly().channel();
            SocketAddress address = unixAddress != null ? unixAddress : ch.localAddress();
            added(new Listener(ch, address));
            LOG.info("listening on {}{} ({})", what, unixAddress != null ? "" : " " + address, engine);
            return address;
        } catch (Exception e) {
            channel.unsafe().closeForcibly();
            throw new IOException("cannot serve " + what + ": " + e.getMessage(), e);
        }
    }

    private ServerBootstrap bootstrap(boolean tcp) {
        ServerBootstrap b = new ServerBootstrap().group(boss, workers)
                .childHandler(new Initializer(new HandshakeGate(handshakeLimits)))
                // Accepting waits for startAccepting(); meanwhile the kernel queues connections.
                .option(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOCATOR, DataBuffers.ALLOC);
        if (tcp) {
            b.option(ChannelOption.SO_REUSEADDR, true).childOption(ChannelOption.TCP_NODELAY, true);
        } else {
            b.childOption(ChannelOption.SO_SNDBUF, UNIX_SEND_BUFFER);
        }
        return b;
    }

    private SocketAddress bind(Class<? extends ServerChannel> channelClass, SocketAddress address,
                               String what) throws IOException {
        ServerBootstrap b = bootstrap(address instanceof InetSocketAddress).channel(channelClass);
        try {
            Channel ch = b.bind(address).syncUninterruptibly().channel();
            SocketAddress bound = ch.localAddress();
            added(new Listener(ch, bound));
            LOG.info("listening on {} ({})", what, engine);
            return bound;
        } catch (Exception e) {
            throw new IOException(BindErrors.explain(what, e), e);
        }
    }

    private synchronized void added(Listener listener) {
        listeners.add(listener);
        if (accepting) {
            listener.channel().config().setAutoRead(true);
        }
    }

    /** Starts accepting on every listener, and on those bound from now on. */
    public synchronized void startAccepting() {
        accepting = true;
        for (Listener l : listeners) {
            l.channel().config().setAutoRead(true);
        }
    }

    /** The listeners, in the order they were bound or adopted. */
    public synchronized List<Listener> listeners() {
        return List.copyOf(listeners);
    }

    /** Stops accepting connections; open connections carry on. */
    public void stopAccepting() {
        List<Listener> closing;
        synchronized (this) {
            accepting = false;
            closing = List.copyOf(listeners);
            listeners.clear();
        }
        for (Listener l : closing) {
            l.channel().close().syncUninterruptibly();
        }
        for (Path p : socketFiles) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                LOG.warn("cannot remove socket file {}: {}", p, e.getMessage());
            }
        }
        socketFiles.clear();
    }

    @Override
    public void close() {
        stopAccepting();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Sets up each connection accepted on one listener, whose handshakes {@code gate} counts. */
    private final class Initializer extends ChannelInitializer<Channel> {
        private final HandshakeGate gate;

        Initializer(HandshakeGate gate) {
            this.gate = gate;
        }

        @Override
        protected void initChannel(Channel ch) {
            SocketAddress remote = ch.remoteAddress();
            InetAddress tcpClient = remote instanceof InetSocketAddress ? ((InetSocketAddress) remote).getAddress() : null;
            ConnectionContext connection = ConnectionContext.accepted(ch);
            // Nothing has been said yet, so no NBD message can carry the reason: the log line does.
            if (!connections.admitsAnother()) {
                refusals.refused(connection, HandshakeFailure.TOO_MANY_CONNECTIONS,
                        connections.open() + " open connections (limits.max-connections)");
                ch.close();
                return;
            }
            HandshakeFailure refused = gate.enter(tcpClient);
            if (refused != null) {
                refusals.refused(connection, refused, gate.describe(refused));
                ch.close();
                return;
            }
            PayloadReceiver.install(ch);
            ChannelPipeline p = ch.pipeline();
            p.addLast(LOG_HANDLER, new ConnectionLog(connection));
            long idle = idleTimeoutMillis;
            if (idle > 0) {
                p.addLast("idle", new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
            }
            p.addLast("flush", new FlushConsolidationHandler(256, true));
            p.addLast("encoder", HandshakeEncoder.INSTANCE);
            p.addLast("decoder", new HandshakeDecoder(MAX_OPTION_DATA));
            p.addLast("handshake", new HandshakeHandler(exports, connections,
                    session -> new TransmissionHandler(session, connections, counting(connection), payloadMemory),
                    payloadMemory, gate, handshakeTimeoutMillis, connection, tcpClient,
                    TlsPolicy.of(tls, exports.all())));
        }

        /** The daemon's observer, counting each answered request for the connection's closing line too. */
        private RequestObserver counting(ConnectionContext connection) {
            return (export, type, length, error, nanos) -> {
                connection.answered(error);
                observer.completed(export, type, length, error, nanos);
            };
        }
    }
}
