package org.bufcached.daemon.reload;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigInteger;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import org.bufcached.daemon.Daemon;
import org.bufcached.daemon.systemd.Notifier;
import org.bufcached.daemon.systemd.Systemd;
import org.bufcached.daemon.testing.LogCapture;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.TlsClients;
import org.bufcached.tls.testing.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload re-reads the certificates and keys even when the configuration file
 * did not change: new connections get the new ones, a TLS client connected
 * before keeps working, and a damaged file rejects the reload, keeping the
 * credentials in force.
 */
class TlsReloadTest {
    @TempDir
    Path dir;
    private TestCertificates certs;
    private Path certDir;
    private ConfigFile config;
    private Daemon daemon;
    private Reloader reloader;

    @BeforeEach
    void start() throws IOException {
        certs = TestCertificates.get();
        certDir = Files.createDirectories(dir.resolve("tls"));
        install(certs.server());
        config = new ConfigFile(dir).export("disk").tls("  mode: require\n  certificates: tls\n");
        daemon = new Daemon(config.write(), Systemd.none());
        daemon.start();
        reloader = new Reloader(config.source(), daemon, Notifier.NONE, daemon.reloadMeters());
    }

    @AfterEach
    void stop() {
        reloader.close();
        daemon.stop();
    }

    @Test
    void aNewCertificateServesNewConnectionsWhileATlsClientKeepsWorking() throws Exception {
        try (RawClient before = tlsClient(); LogCapture log = new LogCapture(Reloader.class)) {
            BigInteger first = serial(before);
            before.enter("disk").assertRoundTrip(0, new byte[] {1, 2, 3});

            install(certs.serverNext());
            assertThat(reloader.reload()).as("the file itself did not change").isEqualTo(Reloader.Outcome.UNCHANGED);
            log.assertLogged("reload: TLS credentials re-read: TLS require: X.509 from " + certDir);

            try (RawClient after = tlsClient()) {
                assertThat(serial(after)).isNotEqualTo(first).isEqualTo(serialOf(certs.serverNext()));
                after.enter("disk").assertRoundTrip(4096, new byte[] {4});
            }
            before.assertRoundTrip(8192, new byte[] {5, 6});
        }
    }

    @Test
    void aDamagedKeyRejectsTheReloadAndKeepsTheCredentialsInForce() throws Exception {
        try (RawClient before = tlsClient(); LogCapture log = new LogCapture(Reloader.class)) {
            before.enter("disk");
            BigInteger inForce = serialOf(certs.server());
            Files.copy(certs.serverNext().resolve("server-cert.pem"), certDir.resolve("server-cert.pem"),
                    StandardCopyOption.REPLACE_EXISTING);
            Files.writeString(certDir.resolve("server-key.pem"), "-----BEGIN PRIVATE KEY-----\nnot a key\n"
                    + "-----END PRIVATE KEY-----\n");
            assertThat(reloader.reload()).isEqualTo(Reloader.Outcome.REJECTED);
            log.assertLogged("reload rejected, nothing changed: TLS credentials: " + certDir);

            try (RawClient after = tlsClient()) {
                assertThat(serial(after)).isEqualTo(inForce);
                after.enter("disk").assertRoundTrip(0, new byte[] {7});
            }
            before.assertRoundTrip(4096, new byte[] {8});
        }
    }

    @Test
    void aPskFileOthersCanReadRejectsTheReload() throws Exception {
        Path psk = dir.resolve("keys.psk");
        Files.copy(certs.pskKeys(), psk);
        config.tls("  mode: require\n  psk-file: keys.psk\n").write();
        assertThat(reloader.reload()).isEqualTo(Reloader.Outcome.APPLIED);

        Files.setPosixFilePermissions(psk, PosixFilePermissions.fromString("rw-r--r--"));
        try (LogCapture log = new LogCapture(Reloader.class)) {
            assertThat(reloader.reload()).isEqualTo(Reloader.Outcome.REJECTED);
            log.assertLogged("is readable by other users");
        }
        assertThat(daemon.running().tls().psk()).isTrue();
    }

    private void install(Path from) throws IOException {
        for (String f : new String[] {"ca-cert.pem", "server-cert.pem", "server-key.pem"}) {
            Files.copy(from.resolve(f), certDir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private RawClient tlsClient() throws IOException {
        return RawClient.connect(UnixDomainSocketAddress.of(config.socket())).handshake()
                .tls(TlsClients.x509(certs.client("none")));
    }

    private static BigInteger serial(RawClient c) throws Exception {
        return ((X509Certificate) c.tlsSession().getPeerCertificates()[0]).getSerialNumber();
    }

    private static BigInteger serialOf(Path serverDir) throws Exception {
        try (var in = Files.newInputStream(serverDir.resolve("server-cert.pem"))) {
            return ((X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(in)).getSerialNumber();
        }
    }
}
