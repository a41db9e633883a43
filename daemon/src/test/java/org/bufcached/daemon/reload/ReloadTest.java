package org.bufcached.daemon.reload;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bufcached.daemon.Daemon;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.systemd.Notifier;
import org.bufcached.daemon.systemd.Systemd;
import org.bufcached.daemon.testing.NbdWire;
import org.bufcached.daemon.testing.OptionReply;
import org.bufcached.daemon.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGHUP reloads against an in-process daemon, with clients connected
 * throughout: a client on an export the reload leaves alone must not notice it.
 */
class ReloadTest {
    @TempDir
    Path dir;
    private ConfigFile config;
    private Daemon daemon;
    private Reloader reloader;
    /** Connected to "keep" before every reload and checked after it. */
    private RawClient bystander;
    private final byte[] bystanderData = {1, 2, 3, 4};

    @BeforeEach
    void start() throws IOException {
        config = new ConfigFile(dir).export("keep").export("other");
        daemon = new Daemon(config.write(), Systemd.none());
        daemon.start();
        reloader = new Reloader(config.source(), daemon, Notifier.NONE, daemon.reloadMeters());
        bystander = open("keep");
        bystander.write(0, bystanderData).assertOk();
    }

    @AfterEach
    void stop() throws IOException {
        bystander.close();
        reloader.close();
        daemon.stop();
    }

    @Test
    void addedExportTakesNewConnections() throws IOException {
        config.export("added").write();
        assertThat(reloader.reload()).isEqualTo(Reloader.Outcome.APPLIED);
        try (RawClient c = open("added")) {
            c.assertRoundTrip(0, new byte[] {9});
        }
        assertBystanderUnaffected();
    }

    @Test
    void removedExportIsDrainedFlushedAndClosed() throws IOException {
        RawClient onRemoved = open("other");
        byte[] data = {5, 6, 7, 8};
        onRemoved.write(4096, data).assertOk();

        config.remove("other").write();
        assertThat(reloader.reload()).isEqualTo(Reloader.Outcome.APPLIED);

        onRemoved.assertClosed();
        assertThat(daemon.exports().find("other")).isNull();
        try (RawClient c = connect().handshake()) {
            assertThat(c.go("other")).last().extracting(OptionReply::type).isEqualTo(NbdWire.REP_ERR_UNKNOWN);
        }
        byte[] onDisk = Files.readAllBytes(dir.resolve("other.img"));
        assertThat(java.util.Arrays.copyOfRange(onDisk, 4096, 4100)).isEqualTo(data);
        assertBystanderUnaffected();
    }

    @Test
    void liveChangesApplyWithoutTouchingOpenConnections() throws IOException {
        Export before = daemon.exports().find("keep");
        config.export("keep", "4MiB", "    allow: [\"127.0.0.0/8\"]\n").limits("  max-connections-per-export: 1\n")
                .write();
        assertThat(reloader.reload()).isEqualTo(Reloader.Outcome.APPLIED);

        Export after = daemon.exports().find("keep");
        assertThat(after.config().allow()).hasSize(1);
        assertThat(after.store()).as("an allow-list change keeps the store").isSameAs(before.store());
        try (RawClient second = connect().handshake()) {
            assertThat(second.go("keep")).as("the bystander holds the only connection now allowed")
                    .last().extracting(OptionReply::type).isEqualTo(NbdWire.REP_ERR_POLICY);
        }
        assertBystanderUnaffected();
    }

    @Test
    void handshakeAndPayloadMemoryLimitsApplyLive() throws IOException {
        config.limits("  max-handshaking: 1\n  payload-memory: 1MiB\n").write();
        assertThat(reloader.reload()).isEqualTo(Reloader.Outcome.APPLIED);
        assertThat(daemon.payloadMemory().limit()).isEqualTo(1L << 20);
        // A payload larger than the whole budget still goes through, alone.
        byte[] large = new byte[2 << 20];
        java.util.Arrays.fill(large, (byte) 7);
        bystander.assertRoundTrip(1 << 20, large);

        try (RawClient silent = connect()) {
            silent.readGreeting(); // holds the one handshake slot of the listener
            try (RawClient refused = connect()) {
                refused.assertClosed();
            }
            config.limits("  max-handshaking: 2\n").write();
            assertThat(reloader.reload()).isEqualTo(Reloader.Outcome.APPLIED);
            try (RawClient c = open("other")) {
                c.assertRoundTrip(0, new byte[] {3});
            }
        }
        assertThat(daemon.payloadMemory().limit()).as("back to the default").isGreaterThan(1L << 20);
        assertBystanderUnaffected();
    }

    @Test
    void changedExportIsReplacedWithItsNewSize() throws IOException {
        RawClient onChanged = open("other");
        config.export("other", "8MiB", "").write();
        assertThat(reloader.reload()).isEqualTo(Reloader.Outcome.APPLIED);

        onChanged.assertClosed();
        assertThat(daemon.exports().find("other").size()).isEqualTo(8L << 20);
        try (RawClient c = open("other")) {
            c.assertRoundTrip((8L << 20) - 4096, new byte[] {1});
        }
        assertBystanderUnaffected();
    }

    @Test
    void invalidConfigurationChangesNothing() throws IOException {
        List<String> exportsBefore = names();
        config.writeRaw("exports:\n  - name: keep\n    path: keep.img\n    sise: 1GiB\n");
        assertThat(reloader.reload()).isEqualTo(Reloader.Outcome.REJECTED);
        assertThat(names()).isEqualTo(exportsBefore);
        assertBystanderUnaffected();
    }

    @Test
    void exportThatCannotBeOpenedChangesNothing() throws IOException {
        List<String> exportsBefore = names();
        // Valid YAML, but an export whose path is a directory cannot be opened;
        // the export added beside it must not appear either.
        Files.createDirectories(config.path().resolveSibling("missing.img"));
        config.export("fine").export("missing", "1MiB", "").remove("other").write();
        assertThat(reloader.reload()).isEqualTo(Reloader.Outcome.REJECTED);
        assertThat(names()).isEqualTo(exportsBefore);
        try (RawClient c = open("other")) {
            c.assertRoundTrip(0, new byte[] {2});
        }
        assertBystanderUnaffected();
    }

    private List<String> names() {
        return daemon.exports().all().stream().map(Export::name).toList();
    }

    private void assertBystanderUnaffected() throws IOException {
        assertThat(bystander.read(0, bystanderData.length).assertOk().data()).isEqualTo(bystanderData);
        bystander.assertRoundTrip(8192, new byte[] {42});
    }

    private RawClient connect() throws IOException {
        return RawClient.connect(UnixDomainSocketAddress.of(config.socket()));
    }

    private RawClient open(String export) throws IOException {
        return connect().handshake().enter(export);
    }
}
