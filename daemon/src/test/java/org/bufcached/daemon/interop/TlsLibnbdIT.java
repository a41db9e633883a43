package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.bufcached.tls.testing.TestCertificates;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * libnbd over X.509 TLS (GnuTLS on the client side): nbdinfo, nbdcopy and
 * python3-libnbd with {@code nbds://} and {@code nbds+unix://}, with and without
 * client certificates, both TLS providers of the daemon, and plaintext clients
 * under {@code require} and {@code on}.
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class TlsLibnbdIT {
    @TempDir
    Path tmp;
    private TestCertificates certs;

    @BeforeEach
    void tools() {
        Tool.require("nbdinfo", "libnbd-bin");
        certs = TestCertificates.get();
    }

    private DaemonProcess daemon(String tlsYaml) throws Exception {
        return DaemonProcess.builder(tmp.resolve("daemon")).export("disk0", 64 * MiB).tcp().yaml(tlsYaml).start();
    }

    @Test
    void nbdinfoNegotiatesTlsOverTcpAndUnix() throws Exception {
        try (DaemonProcess d = daemon(TlsPeers.x509("require", certs.server(), false, "auto"))) {
            Path client = certs.client("none");
            Tool.Result tcp = Tool.run("nbdinfo", TlsPeers.tcp(d, "disk0", client)).assertOk();
            assertThat(tcp.stdout()).contains("newstyle-fixed with TLS").contains("export-size: " + 64 * MiB);
            Tool.Result list = Tool.run("nbdinfo", "--list", TlsPeers.unix(d, "", client)).assertOk();
            assertThat(list.stdout()).contains("newstyle-fixed with TLS").contains("export=\"disk0\"");
            d.awaitLog("TLS require: X.509 from " + certs.server());
        }
    }

    @Test
    void plaintextIsRefusedUnderRequire() throws Exception {
        try (DaemonProcess d = daemon(TlsPeers.x509("require", certs.server(), false, "auto"))) {
            Tool.Result r = Tool.run("nbdinfo", "--size", d.tcpUri("disk0")).assertFails();
            assertThat(r.stderr()).isNotBlank();
            Tool.run("nbdinfo", "--size", d.uri("disk0")).assertFails();
            d.awaitLog("TLS required conn=");
            // The refusals closed nothing else: TLS clients are served.
            Tool.run("nbdinfo", "--size", TlsPeers.unix(d, "disk0", certs.client("none"))).assertOk();
        }
    }

    @Test
    void plaintextAndTlsAreBothServedUnderOn() throws Exception {
        try (DaemonProcess d = daemon(TlsPeers.x509("on", certs.server(), false, "auto"))) {
            assertThat(Tool.run("nbdinfo", d.tcpUri("disk0")).assertOk().stdout()).contains("without TLS");
            assertThat(Tool.run("nbdinfo", TlsPeers.tcp(d, "disk0", certs.client("none"))).assertOk().stdout())
                    .contains("with TLS");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void nbdcopyInAndOutKeepsEveryByte(String provider) throws Exception {
        Tool.require("nbdcopy", "libnbd-bin");
        Path src = TestData.sparseFile(tmp.resolve("src.img"), 64 * MiB, 7, new long[] {0, 5 * MiB, 40 * MiB},
                new int[] {(int) (3 * MiB), (int) (9 * MiB) + 17, (int) (8 * MiB)});
        String expected = TestData.sha256(src);
        try (DaemonProcess d = daemon(TlsPeers.x509("require", certs.server(), false, provider))) {
            d.awaitLog(provider.equals("jdk") ? "(JDK " : "(BoringSSL");
            Path client = certs.client("none");
            Tool.run("nbdcopy", src.toString(), TlsPeers.tcp(d, "disk0", client)).assertOk();
            Path back = tmp.resolve("back.img");
            Tool.run("nbdcopy", TlsPeers.unix(d, "disk0", client), back.toString()).assertOk();
            assertThat(TestData.sha256(back)).as("sha256 of file -> nbds:// -> nbds+unix:// -> file")
                    .isEqualTo(expected);
            Path back4 = tmp.resolve("back4.img");
            Tool.run("nbdcopy", "--connections=4", TlsPeers.tcp(d, "disk0", client), back4.toString()).assertOk();
            assertThat(TestData.sha256(back4)).isEqualTo(expected);
        }
    }

    @Test
    void pythonLibnbdOverTlsOnBothTransports() throws Exception {
        Tool.requirePythonNbd();
        try (DaemonProcess d = daemon(TlsPeers.x509("require", certs.server(), true, "auto"))) {
            String script = """
                    import os, sys
                    import nbd
                    for uri in sys.argv[1:]:
                        h = nbd.NBD()
                        h.set_uri_allow_local_file(True)  # for tls-certificates=
                        h.connect_uri(uri)
                        assert h.get_tls_negotiated(), uri
                        data = os.urandom(1 << 20)
                        h.pwrite(data, 4096)
                        h.flush()
                        assert h.pread(len(data), 4096) == data, uri
                        h.shutdown()
                        print("ok", uri.split(":")[0])
                    """;
            Path alice = certs.client("alice");
            Tool.Result r = Tool.python(tmp, "tls.py", script, Tool.DEFAULT_TIMEOUT, TlsPeers.tcp(d, "disk0", alice),
                    TlsPeers.unix(d, "disk0", alice)).assertOk();
            assertThat(r.stdout()).contains("ok nbds\n", "ok nbds+unix\n");
        }
    }

    /**
     * fio's nbd engine takes only a URI and does not let libnbd read local files
     * from it (tls-certificates=), so it runs with tls-verify-peer=false, or with
     * the client files in libnbd's default directory.
     */
    @Test
    void fioOverNbdsWritesAndVerifies() throws Exception {
        Tool.require("fio", "fio");
        org.junit.jupiter.api.Assumptions.assumeTrue(Tool.run("fio", "--enghelp").stdout().contains("nbd"),
                "this fio has no nbd ioengine; skipping");
        try (DaemonProcess d = daemon(TlsPeers.x509("require", certs.server(), false, "auto"))) {
            Tool.Result r = Tool.run(Tool.DEFAULT_TIMEOUT, tmp, java.util.List.of("fio", "--name=tls", "--ioengine=nbd",
                    "--uri=nbds://localhost:" + d.tcpPort() + "/disk0?tls-verify-peer=false", "--rw=randwrite",
                    "--bs=64k", "--size=16M", "--iodepth=8", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1"));
            assertThat(r.exitCode()).as(r.describe()).isZero();
            assertThat(r.stdout()).contains("err= 0");
            d.awaitLog("export=disk0");
        }
    }

    @Test
    void clientCertificatesAreVerified() throws Exception {
        try (DaemonProcess d = daemon(TlsPeers.x509("require", certs.server(), true, "auto"))) {
            assertThat(Tool.run("nbdinfo", "--size", TlsPeers.tcp(d, "disk0", certs.client("alice"))).assertOk()
                    .stdout().strip()).isEqualTo(String.valueOf(64 * MiB));
            Tool.run("nbdinfo", "--size", TlsPeers.tcp(d, "disk0", certs.client("rogue"))).assertFails();
            d.awaitLog("reason=TLS handshake failed:");
            Tool.run("nbdinfo", "--size", TlsPeers.unix(d, "disk0", certs.client("none"))).assertFails();
            Tool.run("nbdinfo", "--size", TlsPeers.unix(d, "disk0", certs.client("bob"))).assertOk();
        }
    }

    @Test
    void aRevokedClientCertificateIsRefused() throws Exception {
        try (DaemonProcess d = daemon(TlsPeers.x509("require", certs.serverWithCrl(), true, "auto"))) {
            Tool.run("nbdinfo", "--size", TlsPeers.tcp(d, "disk0", certs.client("revoked"))).assertFails();
            d.awaitLog("reason=TLS handshake failed:");
            Tool.run("nbdinfo", "--size", TlsPeers.tcp(d, "disk0", certs.client("alice"))).assertOk();
        }
    }
}
