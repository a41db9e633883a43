package org.bufcached.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.bufcached.client.TestServer;
import org.bufcached.tls.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TLS options and URIs of {@code bufcache}, against bufcached and nbdkit with TLS required. */
class TlsCliTest {
    @TempDir
    Path dir;

    private Path image() throws Exception {
        Path file = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(16 << 20);
        }
        return file;
    }

    @Test
    void uriParametersAndOptionsAgainstBufcachedWithX509() throws Exception {
        TestCertificates certs = TestCertificates.get();
        try (TestServer server = TestServer.bufcached(dir, image(), "off", "--tls", "require", "--tls-certificates",
                certs.server().toString())) {
            String socket = server.uri().socketPath();
            String nbds = "nbds+unix:///disk?socket=" + socket + "&tls-certificates=" + certs.client("none");
            CliTest.Run info = CliTest.run("info", nbds);
            assertThat(info.code()).as(info.err()).isZero();
            assertThat(info.out()).contains("size:             16777216 (16 MiB)");

            Path in = Files.write(dir.resolve("in.bin"), random(3 << 20));
            CliTest.Run copy = CliTest.run("copy", in.toString(), nbds, "--verify");
            assertThat(copy.code()).as(copy.err()).isZero();
            // The same connection from a plain URI and the options.
            Path out = dir.resolve("out.bin");
            CliTest.Run read = CliTest.run("read", "nbd+unix:///disk?socket=" + socket, "--offset", "0", "--length",
                    String.valueOf(3 << 20), "-o", out.toString(), "--tls-certificates", certs.client("none").toString());
            assertThat(read.code()).as(read.err()).isZero();
            assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(in));

            CliTest.Run plain = CliTest.run("list", "nbd+unix:///?socket=" + socket);
            assertThat(plain.code()).isEqualTo(1);
            assertThat(plain.err()).contains("NBD_REP_ERR_TLS_REQD");
        }
    }

    @Test
    void pskOptionsAgainstNbdkit() throws Exception {
        TestCertificates certs = TestCertificates.get();
        try (TestServer server = TestServer.nbdkit(dir, "--tls=require", "--tls-psk=" + certs.pskKeys(), "memory", "16M")) {
            String uri = server.uri().toString();
            CliTest.Run info = CliTest.run("info", uri, "--tls-psk-file", certs.pskKeys().toString(),
                    "--tls-username", "alice");
            assertThat(info.code()).as(info.err()).isZero();
            CliTest.Run map = CliTest.run("map", "nbds+unix://bob@/?socket=" + server.uri().socketPath()
                    + "&tls-psk-file=" + certs.pskKeys());
            assertThat(map.code()).as(map.err()).isZero();
            CliTest.Run bench = CliTest.run("bench", uri, "--tls-psk-file", certs.pskKeys().toString(),
                    "--tls-username", "alice", "--runtime", "1", "--rw", "randrw", "--iodepth", "4");
            assertThat(bench.code()).as(bench.err()).isZero();
        }
    }

    @Test
    void attachRefusesTls() {
        CliTest.Run attach = CliTest.run("attach", "nbds://localhost/disk", "/dev/nbd0");
        assertThat(attach.code()).isEqualTo(2);
        assertThat(attach.err()).contains("the kernel's nbd driver cannot speak TLS");
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(3).nextBytes(b);
        return b;
    }
}
