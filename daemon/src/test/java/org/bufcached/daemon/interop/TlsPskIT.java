package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bufcached.tls.testing.TestCertificates;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS-PSK with libnbd, as {@code nbds://alice@host/?tls-psk-file=FILE}: the
 * right key works over TCP and Unix sockets, in TLS 1.3 and (with GnuTLS told
 * to leave TLS 1.3 out) TLS 1.2; a wrong key and an unknown username are
 * refused with a log line saying why; identities limit an export to some
 * usernames; a PSK file others can read stops the start.
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class TlsPskIT {
    @TempDir
    Path tmp;
    private TestCertificates certs;

    @BeforeEach
    void tools() {
        Tool.require("nbdinfo", "libnbd-bin");
        certs = TestCertificates.get();
    }

    private DaemonProcess daemon() throws Exception {
        return DaemonProcess.builder(tmp.resolve("daemon"))
                .export("disk0", 64 * MiB)
                .export("alice-only", 16 * MiB)
                .exportYaml("alice-only", "    identities: [alice]\n")
                .tcp().yaml(TlsPeers.psk("require", certs.pskKeys())).start();
    }

    @Test
    void theRightKeyWorksOverTcpAndUnix() throws Exception {
        try (DaemonProcess d = daemon()) {
            Path keys = certs.pskKeys();
            assertThat(Tool.run("nbdinfo", "--size", TlsPeers.pskTcp(d, "alice", "disk0", keys)).assertOk().stdout()
                    .strip()).isEqualTo(String.valueOf(64 * MiB));
            assertThat(Tool.run("nbdinfo", TlsPeers.pskUnix(d, "bob", "disk0", keys)).assertOk().stdout())
                    .contains("with TLS");
            d.awaitLog("TLS require: PSK from " + keys + " (2 usernames)");
        }
    }

    @Test
    void tls12WorksToo() throws Exception {
        Path noTls13 = Files.writeString(tmp.resolve("gnutls.conf"), "[overrides]\ndisabled-version = tls1.3\n");
        try (DaemonProcess d = daemon()) {
            Tool.Result r = Tool.run(Tool.DEFAULT_TIMEOUT, null,
                    List.of("nbdinfo", "--size", TlsPeers.pskTcp(d, "alice", "disk0", certs.pskKeys())),
                    Map.of("GNUTLS_SYSTEM_PRIORITY_FILE", noTls13.toString(), "LIBNBD_DEBUG", "1")).assertOk();
            assertThat(r.stderr()).contains("key exchange DHE-PSK");
            assertThat(r.stdout()).contains(String.valueOf(64 * MiB));
        }
    }

    @Test
    void aWrongKeyIsRefused() throws Exception {
        try (DaemonProcess d = daemon()) {
            Tool.run("nbdinfo", "--size", TlsPeers.pskTcp(d, "alice", "disk0", certs.pskWrongKeys())).assertFails();
            d.awaitLog("reason=TLS handshake failed: alert decrypt_error(51)");
            d.awaitLog("PSK username alice: do both sides have the same key?");
        }
    }

    @Test
    void anUnknownUsernameIsRefused() throws Exception {
        Path carol = tmp.resolve("carol.psk");
        Tool.run("psktool", "-u", "carol", "-p", carol.toString()).assertOk();
        try (DaemonProcess d = daemon()) {
            Tool.run("nbdinfo", "--size", TlsPeers.pskUnix(d, "carol", "disk0", carol)).assertFails();
            d.awaitLog("unknown PSK username carol");
        }
    }

    @Test
    void identitiesLimitAnExportToSomeUsernames() throws Exception {
        try (DaemonProcess d = daemon()) {
            Path keys = certs.pskKeys();
            Tool.run("nbdinfo", "--size", TlsPeers.pskTcp(d, "alice", "alice-only", keys)).assertOk();
            Tool.Result bob = Tool.run("nbdinfo", "--size", TlsPeers.pskTcp(d, "bob", "alice-only", keys)).assertFails();
            assertThat(bob.stderr()).contains("server policy prevents NBD_OPT_GO");
            d.awaitLog("identity refused conn=");
            d.awaitLog("export=alice-only identity=psk:bob");
            assertThat(Tool.run("nbdinfo", "--list", TlsPeers.pskUnix(d, "bob", "", keys)).assertOk().stdout())
                    .contains("export=\"disk0\"").doesNotContain("alice-only");
        }
    }

    @Test
    void pythonLibnbdWithPsk() throws Exception {
        Tool.requirePythonNbd();
        try (DaemonProcess d = daemon()) {
            String script = """
                    import sys
                    import nbd
                    h = nbd.NBD()
                    h.set_tls(nbd.TLS_REQUIRE)
                    h.set_tls_psk_file(sys.argv[2])
                    h.set_tls_username("alice")
                    h.set_export_name("alice-only")
                    h.connect_unix(sys.argv[1])
                    assert h.get_tls_negotiated()
                    h.pwrite(b"psk" * 1000, 0)
                    assert h.pread(3000, 0) == b"psk" * 1000
                    print("ok")
                    """;
            Tool.python(tmp, "psk.py", script, Tool.DEFAULT_TIMEOUT, d.socket().toString(),
                    certs.pskKeys().toString()).assertOk();
        }
    }

    @Test
    void aPskFileOthersCanReadStopsTheStart() throws Exception {
        Path keys = Files.copy(certs.pskKeys(), tmp.resolve("keys.psk"));
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-r--r--"));
        Tool.Result r = Tool.run(DaemonProcess.javaExecutable(), "-jar", DaemonProcess.jar().toString(),
                "--tls", "require", "--tls-psk", keys.toString(), "--metrics", "off", "--unix",
                tmp.resolve("s.sock").toString(), "--export", "x=" + tmp.resolve("x.img") + ",size=1M");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("--tls-psk: " + keys + " is readable by other users; its keys are secrets: "
                + "chmod o-r " + keys);
    }
}
