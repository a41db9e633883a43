package org.bufcached.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.bufcached.client.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every subcommand in process, against every server kind where it applies, with exit codes. */
public class CliTest {
    @TempDir
    Path dir;

    /** The outcome of one run of the tool. */
    public record Run(int code, String out, String err) {
    }

    public static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BufcacheMain.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @EnumSource(TestServer.Kind.class)
    void listInfoMapReadWriteCopyBench(TestServer.Kind kind) throws Exception {
        try (TestServer server = TestServer.start(kind, dir, 16 << 20)) {
            String uri = server.uri().toString();
            Run list = run("list", uri);
            assertThat(list.code()).as(list.err()).isZero();
            assertThat(list.out()).contains("16777216");

            Run info = run("info", "--json", uri);
            assertThat(info.code()).as(info.err()).isZero();
            assertThat(info.out()).contains("\"size\":16777216").contains("base:allocation");
            assertThat(run("info", uri).out()).contains("size:             16777216 (16 MiB)");

            byte[] data = new byte[300_000];
            new Random(1).nextBytes(data);
            Path in = Files.write(dir.resolve("in.bin"), data);
            Run write = run("write", uri, "--offset", "1M", "-i", in.toString());
            assertThat(write.code()).as(write.err()).isZero();

            Path out = dir.resolve("out.bin");
            Run read = run("read", uri, "--offset", "1M", "--length", "300000", "-o", out.toString());
            assertThat(read.code()).as(read.err()).isZero();
            assertThat(Files.readAllBytes(out)).isEqualTo(data);

            Run map = run("map", uri);
            assertThat(map.code()).as(map.err()).isZero();
            assertThat(map.out()).containsPattern("1048576\\s+\\d+\\s+data");

            Path copy = dir.resolve("copy.img");
            Run toFile = run("copy", uri, copy.toString(), "--verify");
            assertThat(toFile.code()).as(toFile.err()).isZero();
            assertThat(Files.size(copy)).isEqualTo(16 << 20);
            Run back = run("copy", copy.toString(), uri, "--verify");
            assertThat(back.code()).as(back.err()).isZero();

            Run bench = run("bench", uri, "--rw", "randrw", "--runtime", "1", "--iodepth", "8");
            assertThat(bench.code()).as(bench.err()).isZero();
            assertThat(bench.out()).contains("IOPS:").contains("p50").contains("p99").contains("p999");
        }
    }

    @Test
    void exportToExportCopy() throws Exception {
        try (TestServer a = TestServer.start(TestServer.Kind.NBDKIT_MEMORY, dir, 8 << 20);
             TestServer b = TestServer.start(TestServer.Kind.QEMU_NBD, dir, 8 << 20)) {
            Path in = Files.write(dir.resolve("in.bin"), new byte[] {1, 2, 3, 4, 5});
            assertThat(run("write", a.uri().toString(), "--offset", "4096", "-i", in.toString()).code()).isZero();
            Run copy = run("copy", a.uri().toString(), b.uri().toString(), "--verify");
            assertThat(copy.code()).as(copy.err()).isZero();
            assertThat(Files.readAllBytes(b.file())).startsWith(new byte[4096]);
        }
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertThat(run().code()).isEqualTo(2);
        assertThat(run("info").code()).isEqualTo(2);
        Run bad = run("info", "http://example.com/");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("not an NBD URI");
        assertThat(run("bench", "nbd://localhost/", "--bs", "lots").code()).isEqualTo(2);
        assertThat(run("copy", "a.img", "b.img").code()).isEqualTo(2);
        assertThat(run("attach", "nbd://localhost/").code()).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"list", "info", "map", "read", "write", "copy", "bench", "stats", "attach", "detach"})
    void everySubcommandHasHelp(String name) {
        Run help = run(name, "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("Usage: bufcache " + name);
    }

    @Test
    void ioErrorsExitWithOneOnOneLine() throws Exception {
        Run missing = run("info", "nbd+unix:///?socket=" + dir.resolve("nothing.sock"));
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err().strip()).doesNotContain("\n").contains("cannot connect").contains("no such socket");
        try (TestServer server = TestServer.nbdkit(dir, "--filter=error", "memory", "1M", "error-pread-rate=100%",
                "error-pread=EIO")) {
            Run read = run("read", server.uri().toString(), "--offset", "0", "--length", "512", "-o",
                    dir.resolve("x").toString());
            assertThat(read.code()).isEqualTo(1);
            assertThat(read.err().strip()).doesNotContain("\n").contains("NBD_EIO");
        }
    }
}
