package org.bufcached.daemon.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Random;
import org.bufcached.config.BlockSizes;
import org.bufcached.config.BufcachedConfig;
import org.bufcached.config.Cidr;
import org.bufcached.config.ConfigLoader;
import org.bufcached.config.ExportConfig;
import org.bufcached.config.FlushClass;
import org.bufcached.config.IoConfig;
import org.bufcached.config.IoEngineName;
import org.bufcached.config.LimitsConfig;
import org.bufcached.config.ListenConfig;
import org.bufcached.config.ListenUnix;
import org.bufcached.config.MetricsConfig;
import org.bufcached.config.TlsConfig;
import org.bufcached.config.TlsMode;
import org.bufcached.daemon.Daemon;

/**
 * An in-process daemon for tests: exports on sparse files in a temporary
 * directory, one Unix socket there, and a TCP listener on 127.0.0.1 (an
 * ephemeral port) on demand, no metrics endpoint. Every other setting is the
 * embedded default.
 */
public final class TestDaemon implements AutoCloseable {
    public static final int KIB = 1 << 10;
    public static final int MIB = 1 << 20;
    /** Block sizes every test export advertises: minimum 1, preferred 4 KiB, maximum payload 32 MiB. */
    public static final BlockSizes BLOCK_SIZES = new BlockSizes(1, 4096, 32 * MIB);
    /** The standard writable export: large enough for 32 MiB + 1 requests to be in bounds. */
    public static final String DISK = "disk";
    public static final long DISK_SIZE = 64L * MIB;
    public static final String DISK_DESCRIPTION = "scratch disk for tests";
    /** The standard read-only export, filled with a known pattern. */
    public static final String RO = "ro";
    public static final long RO_SIZE = MIB;

    private final Daemon daemon;
    private final Path socket;
    private final Map<String, Path> files;
    private final List<RawClient> clients = new ArrayList<>();
    private SocketAddress tcp;
    private boolean stopped;

    private TestDaemon(Daemon daemon, Path socket, Map<String, Path> files) {
        this.daemon = daemon;
        this.socket = socket;
        this.files = files;
    }

    /** A daemon with the standard exports {@link #DISK} and {@link #RO} (read-only, content {@link #pattern}). */
    public static TestDaemon start(Path dir) throws IOException {
        return builder(dir).start();
    }

    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    public static final class Builder {
        private final Path dir;
        private final Map<String, ExportConfig> exports = new LinkedHashMap<>();
        private Duration handshakeTimeout;
        private Integer maxConnectionsPerExport;
        private Integer maxConnections;
        private Integer maxHandshaking;
        private Integer maxHandshakingPerAddress;
        private OptionalLong payloadMemory;
        private Duration payloadTimeout;
        private TlsConfig tls = TlsConfig.OFF;

        private Builder(Path dir) {
            this.dir = dir;
            export(DISK, DISK_SIZE, false, DISK_DESCRIPTION);
            export(RO, RO_SIZE, true, null);
        }

        public Builder export(String name, long size, boolean readonly, String description) {
            return export(name, size, readonly, description, BLOCK_SIZES);
        }

        public Builder export(String name, long size, boolean readonly, String description, BlockSizes blockSizes) {
            exports.put(name, new ExportConfig(name, dir.resolve(name + ".img"), OptionalLong.of(size), readonly,
                    Optional.ofNullable(description), blockSizes, FlushClass.LIGHT,
                    List.of(Cidr.parse("0.0.0.0/0"), Cidr.parse("::/0"))));
            return this;
        }

        /** Replaces the allow list of an export added before. */
        public Builder allow(String export, String... networks) {
            ExportConfig e = exports.get(export);
            exports.put(export, new ExportConfig(e.name(), e.path(), e.size(), e.readonly(), e.description(),
                    e.blockSizes(), e.flushClass(), Arrays.stream(networks).map(Cidr::parse).toList(), e.tls(),
                    e.identities()));
            return this;
        }

        /** TLS for the daemon; {@code TlsConfig.OFF} unless set. */
        public Builder tls(TlsConfig config) {
            this.tls = config;
            return this;
        }

        /** Sets an export's own {@code tls} and {@code identities}. */
        public Builder exportTls(String name, TlsMode mode, String... identities) {
            ExportConfig e = exports.get(name);
            exports.put(name, new ExportConfig(e.name(), e.path(), e.size(), e.readonly(), e.description(),
                    e.blockSizes(), e.flushClass(), e.allow(), Optional.ofNullable(mode), List.of(identities)));
            return this;
        }

        /** Adds a dirty bitmap of the default granularity to an export added before. */
        public Builder bitmap(String name, String bitmap) {
            ExportConfig e = exports.get(name);
            List<org.bufcached.config.BitmapConfig> bitmaps = new ArrayList<>(e.bitmaps());
            bitmaps.add(new org.bufcached.config.BitmapConfig(bitmap, org.bufcached.config.BitmapConfig.DEFAULT_GRANULARITY));
            exports.put(name, new ExportConfig(e.name(), e.path(), e.size(), e.readonly(), e.description(),
                    e.blockSizes(), e.flushClass(), e.allow(), e.tls(), e.identities(), bitmaps));
            return this;
        }

        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = timeout;
            return this;
        }

        public Builder maxConnectionsPerExport(int max) {
            this.maxConnectionsPerExport = max;
            return this;
        }

        public Builder maxConnections(int max) {
            this.maxConnections = max;
            return this;
        }

        /** {@code limits.max-handshaking} and {@code limits.max-handshaking-per-address}. */
        public Builder maxHandshaking(int perListener, int perAddress) {
            this.maxHandshaking = perListener;
            this.maxHandshakingPerAddress = perAddress;
            return this;
        }

        public Builder payloadMemory(long bytes) {
            this.payloadMemory = OptionalLong.of(bytes);
            return this;
        }

        public Builder payloadTimeout(Duration timeout) {
            this.payloadTimeout = timeout;
            return this;
        }

        public TestDaemon start() throws IOException {
            BufcachedConfig base = ConfigLoader.defaults();
            Map<String, Path> files = new LinkedHashMap<>();
            for (ExportConfig e : exports.values()) {
                try (RandomAccessFile f = new RandomAccessFile(e.path().toFile(), "rw")) {
                    f.setLength(e.size().getAsLong());
                    if (e.readonly()) {
                        f.write(pattern(e.size().getAsLong(), 0));
                    }
                }
                files.put(e.name(), e.path());
            }
            LimitsConfig l = base.limits();
            LimitsConfig limits = new LimitsConfig(
                    maxConnections != null ? maxConnections : l.maxConnections(),
                    maxConnectionsPerExport != null ? maxConnectionsPerExport : l.maxConnectionsPerExport(),
                    maxHandshaking != null ? maxHandshaking : l.maxHandshaking(),
                    maxHandshakingPerAddress != null ? maxHandshakingPerAddress : l.maxHandshakingPerAddress(),
                    handshakeTimeout != null ? handshakeTimeout : l.handshakeTimeout(), l.idleTimeout(),
                    l.stuckRequest(), l.shutdownTimeout(), payloadMemory != null ? payloadMemory : l.payloadMemory(),
                    payloadTimeout != null ? payloadTimeout : l.payloadTimeout());
            Path socket = dir.resolve("nbd.sock");
            ListenConfig listen = new ListenConfig(List.of(),
                    List.of(new ListenUnix(socket, OptionalInt.empty(), Optional.empty(), Optional.empty())));
            BufcachedConfig config = new BufcachedConfig(listen, new ArrayList<>(exports.values()), base.cache(),
                    engine(base.io()), limits, new MetricsConfig(false, base.metrics().listen()), base.logging(), tls,
                    Optional.empty());
            Daemon daemon = new Daemon(config);
            daemon.start();
            return new TestDaemon(daemon, socket, files);
        }
    }

    /**
     * The I/O engine the tests run on: system property {@code bufcached.test.engine}
     * (the build runs the suite once per engine), else the default.
     */
    public static IoConfig engine(IoConfig base) {
        String engine = System.getProperty("bufcached.test.engine", "");
        if (engine.isEmpty()) {
            return base;
        }
        return new IoConfig(IoEngineName.valueOf(engine.toUpperCase(java.util.Locale.ROOT)), base.eventLoops(),
                base.workers());
    }

    /** Deterministic test data: byte i is a function of (seed, i). */
    public static byte[] pattern(long length, int seed) {
        byte[] b = new byte[(int) length];
        new Random(seed).nextBytes(b);
        return b;
    }

    public Daemon daemon() {
        return daemon;
    }

    public Path socket() {
        return socket;
    }

    public Path file(String export) {
        return files.get(export);
    }

    /** Bytes of an export's backing file, read directly, not through the daemon. */
    public byte[] fileContent(String export, long offset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(file(export))) {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining() && ch.read(b, offset + b.position()) >= 0) {
                // keep reading
            }
            return b.array();
        }
    }

    /** A connection on the Unix socket, before the greeting is read. */
    public RawClient connect() throws IOException {
        return track(RawClient.connect(UnixDomainSocketAddress.of(socket)));
    }

    private RawClient track(RawClient client) {
        clients.add(client);
        return client;
    }

    /**
     * A connection on TCP 127.0.0.1. The daemon does not expose the ports it bound,
     * so the first call binds an extra listener on an ephemeral port through
     * {@code NbdServer.bindTcp}, which returns the bound address.
     */
    public RawClient connectTcp() throws IOException {
        return track(RawClient.connect(tcpAddress()));
    }

    /** A connection on TCP 127.0.0.1 from another loopback address, such as 127.0.0.2. */
    public RawClient connectTcpFrom(InetAddress local) throws IOException {
        return track(RawClient.connectFrom(local, tcpAddress()));
    }

    /** The TCP listener's address; the first call binds it (see {@link #connectTcp}). */
    public SocketAddress tcpAddress() throws IOException {
        if (tcp == null) {
            tcp = daemon.server().bindTcp("127.0.0.1", 0);
        }
        return tcp;
    }

    /** Handshake and NBD_OPT_GO with simple replies. */
    public RawClient open(String export) throws IOException {
        return connect().handshake().enter(export);
    }

    /** Handshake, structured replies, NBD_OPT_GO. */
    public RawClient openStructured(String export) throws IOException {
        return connect().handshake().structuredReplies().enter(export);
    }

    /** Handshake, extended headers, NBD_OPT_GO. */
    public RawClient openExtended(String export) throws IOException {
        return connect().handshake().extendedHeaders().enter(export);
    }

    /** Handshake, extended headers, base:allocation selected, NBD_OPT_GO. */
    public RawClient openExtendedWithAllocation(String export) throws IOException {
        RawClient c = connect().handshake().extendedHeaders();
        c.selectAllocation(export);
        return c.enter(export);
    }

    /** Handshake, structured replies, base:allocation selected, NBD_OPT_GO. */
    public RawClient openWithAllocation(String export) throws IOException {
        RawClient c = connect().handshake().structuredReplies();
        c.selectAllocation(export);
        return c.enter(export);
    }

    /**
     * A connection in transmission on {@link #DISK} that has written (and had
     * acknowledged) a pattern near the end of the export: a witness that, after
     * something bad happened on another connection, the daemon still serves this
     * connection and new ones and lost no acknowledged data.
     */
    public Witness witness() throws IOException {
        return new Witness(open(DISK));
    }

    public final class Witness {
        private static final int SIZE = 4096;
        private final RawClient before;
        private final long offset = DISK_SIZE - SIZE * (1 + daemon.connections().openedTotal() % 64);
        private final byte[] data = pattern(SIZE, (int) offset);

        private Witness(RawClient before) throws IOException {
            this.before = before;
            before.write(offset, data).assertOk();
        }

        /** The connection opened before still works, a new one works, and both read the acknowledged data. */
        public void assertDaemonServes() throws IOException {
            assertThat(before.read(offset, SIZE).assertOk().data()).as("witness data on the old connection")
                    .isEqualTo(data);
            try (RawClient after = open(DISK)) {
                assertThat(after.read(offset, SIZE).assertOk().data()).as("witness data on a new connection")
                        .isEqualTo(data);
                after.assertRoundTrip(offset, pattern(SIZE, (int) offset + 1));
            }
            before.write(offset, data).assertOk();
        }
    }

    /** Stops the daemon as SIGTERM does. */
    public void stop() {
        if (!stopped) {
            stopped = true;
            daemon.stop();
        }
    }

    /** Closes every client this daemon handed out, then stops it. */
    @Override
    public void close() throws IOException {
        for (RawClient c : clients) {
            c.close();
        }
        stop();
    }
}
