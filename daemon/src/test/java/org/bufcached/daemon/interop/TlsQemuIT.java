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

/**
 * QEMU's NBD client over TLS (GnuTLS through QEMU's crypto layer):
 * {@code --object tls-creds-x509} and {@code tls-creds=} in {@code --image-opts},
 * with a client certificate, over TCP and a Unix socket; and tls-creds-psk.
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TlsQemuIT {
    @TempDir
    Path tmp;
    private TestCertificates certs;

    @BeforeEach
    void tools() {
        Tool.require("qemu-img", "qemu-utils");
        Tool.require("qemu-io", "qemu-utils");
        certs = TestCertificates.get();
    }

    private DaemonProcess daemon(String tlsYaml) throws Exception {
        return DaemonProcess.builder(tmp.resolve("daemon")).export("disk0", 64 * MiB).tcp().yaml(tlsYaml).start();
    }

    private static String x509Creds(Path dir) {
        return "tls-creds-x509,id=tls0,dir=" + dir + ",endpoint=client";
    }

    @Test
    void qemuImgInfoOverTcpWithAClientCertificate() throws Exception {
        try (DaemonProcess d = daemon(TlsPeers.x509("require", certs.server(), true, "auto"))) {
            Tool.Result r = Tool.run("qemu-img", "info", "--object", x509Creds(certs.client("alice")), "--image-opts",
                    "driver=nbd,host=localhost,port=" + d.tcpPort() + ",export=disk0,tls-creds=tls0").assertOk();
            assertThat(r.stdout()).contains("virtual size: 64 MiB (" + 64 * MiB + " bytes)");
            // Without tls-creds QEMU speaks plaintext, which the daemon refuses. (A certificate from
            // another authority never reaches the daemon: QEMU checks its own against its ca-cert.pem.)
            Tool.run("qemu-img", "info", "--image-opts",
                    "driver=nbd,host=localhost,port=" + d.tcpPort() + ",export=disk0").assertFails();
            d.awaitLog("TLS required conn=");
        }
    }

    @Test
    void qemuIoWritesAndReadsAPatternOverBothTransports() throws Exception {
        try (DaemonProcess d = daemon(TlsPeers.x509("require", certs.server(), true, "auto"))) {
            String tcp = "driver=nbd,server.type=inet,server.host=localhost,server.port=" + d.tcpPort()
                    + ",export=disk0,tls-creds=tls0";
            // A Unix socket has no host name for the certificate check: QEMU takes it from tls-hostname.
            String unix = "driver=nbd,server.type=unix,server.path=" + d.socket()
                    + ",export=disk0,tls-creds=tls0,tls-hostname=localhost";
            String creds = x509Creds(certs.client("alice"));
            Tool.Result w = Tool.run("qemu-io", "--object", creds, "--image-opts", tcp,
                    "-c", "write -P 0xa5 1M 3M", "-c", "write -P 0x5a 7M 64k", "-c", "flush").assertOk();
            assertThat(w.stdout()).contains("wrote 3145728/3145728 bytes at offset 1048576");
            Tool.Result r = Tool.run("qemu-io", "--object", creds, "--image-opts", unix,
                    "-c", "read -P 0xa5 1M 3M", "-c", "read -P 0x5a 7M 64k", "-c", "read -P 0 0 1M").assertOk();
            assertThat(r.stdout()).doesNotContain("Pattern verification failed")
                    .contains("read 3145728/3145728 bytes at offset 1048576");
        }
    }

    @Test
    void qemuIoWithAPreSharedKey() throws Exception {
        try (DaemonProcess d = daemon(TlsPeers.psk("require", certs.pskKeys()))) {
            String creds = "tls-creds-psk,id=tls0,dir=" + certs.pskKeys().getParent() + ",username=alice,endpoint=client";
            Tool.Result r = Tool.run("qemu-io", "--object", creds, "--image-opts",
                    "driver=nbd,server.type=unix,server.path=" + d.socket() + ",export=disk0,tls-creds=tls0",
                    "-c", "write -P 0x33 0 128k", "-c", "read -P 0x33 0 128k").assertOk();
            assertThat(r.stdout()).doesNotContain("Pattern verification failed")
                    .contains("read 131072/131072 bytes at offset 0");
        }
    }
}
