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
        assertThat(run("read").code()).isEqualTo(2);
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
        assertThat(help.out()).contains("Usage: bufcache " + name).containsPattern("Examples?:");
        if (!name.equals("detach") && !name.equals("stats")) {
            assertThat(help.out()).as("explains the URI forms").contains("nbd://HOST[:PORT]/EXPORT")
                    .contains("nbd+unix:///EXPORT?socket=PATH");
        }
    }

    /** What main() builds for one subcommand (that subcommand alone) answers as the whole tree does. */
    @ParameterizedTest
    @ValueSource(strings = {"list", "info", "map", "read", "write", "copy", "bench", "stats", "attach", "detach",
        "admin"})
    void theCommandLineOfOneSubcommandAnswersAsTheWholeTree(String name) {
        for (String[] args : new String[][] {{name, "--help"}, {name, "--no-such-option"}, {name, "-V"}}) {
            assertThat(runAsMain(args)).as(String.join(" ", args)).isEqualTo(run(args));
        }
        assertThat(runAsMain(name, "--help").out()).startsWith("Usage: bufcache " + name);
    }

    /** Without a subcommand first (none, help, a typo, an option) main() builds the whole tree. */
    @ParameterizedTest
    @ValueSource(strings = {"", "help copy", "cpy a b", "--version", "--help"})
    void otherCommandLinesAreTheWholeTree(String line) {
        String[] args = line.isEmpty() ? new String[0] : line.split(" ");
        assertThat(runAsMain(args)).isEqualTo(run(args));
    }

    private static Run runAsMain(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BufcacheMain.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), args).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** No exception class names, no stack traces, no "positional parameter at index": one line a person reads. */
    @ParameterizedTest
    @ValueSource(strings = {"nbd://[bad", "nbd+unix:///disk", "http://example.com/disk", "nbd:///disk"})
    void aMalformedUriIsOneClearLine(String uri) {
        Run r = run("info", uri);
        assertThat(r.code()).isEqualTo(2);
        String first = r.err().lines().findFirst().orElseThrow();
        assertThat(first).startsWith("bufcache: ").contains(uri).containsPattern("nbd\\[s]://HOST\\[:PORT]/EXPORT|\\?socket=PATH")
                .doesNotContain("Exception").doesNotContain("java.").doesNotContain("positional parameter");
    }

    @Test
    void connectionRefusedSaysNothingListensThere() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Run r = run("info", "nbd://127.0.0.1:" + port + "/disk");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("bufcache: cannot connect to nbd://127.0.0.1:" + port + "/disk: connection"
                + " refused: nothing listens on 127.0.0.1:" + port + " (is bufcached running there?)"
                + System.lineSeparator());
    }

    @Test
    void copyOfAMissingFileSaysWhichAndWhy() throws Exception {
        Path missing = dir.resolve("missing.img");
        Run r = run("copy", missing.toString(), "nbd://127.0.0.1:1/disk");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("bufcache: cannot read source " + missing + ": no such file"
                + System.lineSeparator());
        Run dirSource = run("copy", dir.toString(), "nbd://127.0.0.1:1/disk");
        assertThat(dirSource.err()).contains("cannot read source " + dir + ": it is a directory");
    }

    @Test
    void copyPrintsASummaryNoProgressWhenNotATerminalAndNothingWithQuiet() throws Exception {
        try (TestServer server = TestServer.start(TestServer.Kind.NBDKIT_MEMORY, dir, 8 << 20)) {
            Path src = dir.resolve("half.img");
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(src.toFile(), "rw")) {
                f.setLength(8 << 20);
                f.write(new byte[] {1, 2, 3}); // 4 KiB of data at the start, the rest a hole
            }
            Run copy = run("copy", src.toString(), server.uri().toString(), "--verify", "--queue-depth", "4");
            assertThat(copy.code()).as(copy.err()).isZero();
            assertThat(copy.err()).as("no progress line when stderr is not a terminal").isEmpty();
            assertThat(copy.out()).matches("copied 8 MiB \\(\\S+ \\S+ data, \\S+ \\S+ zero\\) in \\d+\\.\\d s, "
                    + "\\S+ \\S+/s; verified in \\d+\\.\\d s\\R");
            Run quiet = run("copy", "-q", src.toString(), server.uri().toString());
            assertThat(quiet.code()).as(quiet.err()).isZero();
            assertThat(quiet.out() + quiet.err()).isEmpty();
        }
    }

    @Test
    void listAndBenchSpeakJson() throws Exception {
        try (TestServer server = TestServer.start(TestServer.Kind.NBDKIT_MEMORY, dir, 4 << 20)) {
            Run list = run("list", "--json", server.uri().toString());
            assertThat(list.code()).as(list.err()).isZero();
            assertThat(list.out().strip()).startsWith("[{\"name\":").contains("\"size\":4194304").endsWith("}]");
            Run bench = run("bench", "--json", server.uri().toString(), "--runtime", "1", "--qd", "4");
            assertThat(bench.code()).as(bench.err()).isZero();
            assertThat(bench.out().strip()).startsWith("{\"uri\":").contains("\"iops\":")
                    .contains("\"latency_us\":{\"min\":").endsWith("}");
            assertThat(bench.err()).as("no live progress when stderr is not a terminal").isEmpty();
        }
    }

    @Test
    void infoSaysWhatTheExportCanDoAsNbdinfoDoes() throws Exception {
        try (TestServer server = TestServer.start(TestServer.Kind.NBDKIT_MEMORY, dir, 4 << 20)) {
            Run info = run("info", server.uri().toString());
            assertThat(info.code()).as(info.err()).isZero();
            assertThat(info.out()).containsPattern("(?m)^is_read_only:\\s+false$")
                    .containsPattern("(?m)^can_flush:\\s+true$").containsPattern("(?m)^can_trim:\\s+true$")
                    .containsPattern("(?m)^can_zero:\\s+true$").containsPattern("(?m)^can_multi_conn:\\s+(true|false)$");
            Run json = run("info", "--json", server.uri().toString());
            assertThat(json.out()).contains("\"can_flush\":true");
        }
    }

    @Test
    void extendedHeadersAreNegotiatedUnlessTurnedOff() throws Exception {
        try (TestServer server = TestServer.start(TestServer.Kind.BUFCACHED, dir, 4 << 20)) {
            String uri = server.uri().toString();
            assertThat(run("info", uri).out()).containsPattern("(?m)^extended headers: yes$");
            assertThat(run("info", "--json", uri).out()).contains("\"extended_headers\":true");
            Run compact = run("info", "--no-extended-headers", "--json", uri);
            assertThat(compact.code()).as(compact.err()).isZero();
            assertThat(compact.out()).contains("\"extended_headers\":false").contains("\"structured_replies\":true");
            Run map = run("map", "--no-extended-headers", uri);
            assertThat(map.code()).as(map.err()).isZero();
            assertThat(map.out()).containsPattern("(?m)^\\s+0\\s+4194304\\s+hole,zero$");
        }
        try (TestServer server = TestServer.start(TestServer.Kind.NBDKIT_MEMORY, dir, 4 << 20)) {
            assertThat(run("info", server.uri().toString()).out()).as("nbdkit does not offer them")
                    .containsPattern("(?m)^extended headers: no$");
        }
    }

    @Test
    void mapSaysHoleZeroAsNbdinfoDoes() throws Exception {
        try (TestServer server = TestServer.start(TestServer.Kind.NBDKIT_MEMORY, dir, 4 << 20)) {
            Run map = run("map", server.uri().toString());
            assertThat(map.code()).as(map.err()).isZero();
            assertThat(map.out()).containsPattern("(?m)^\\s+0\\s+4194304\\s+hole,zero$");
        }
    }

    @Test
    void ioErrorsExitWithOneOnOneLine() throws Exception {
        Run missing = run("info", "nbd+unix:///?socket=" + dir.resolve("nothing.sock"));
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err().strip()).doesNotContain("\n").contains("cannot connect").contains("no socket at");
        try (TestServer server = TestServer.nbdkit(dir, "--filter=error", "memory", "1M", "error-pread-rate=100%",
                "error-pread=EIO")) {
            Run read = run("read", server.uri().toString(), "--offset", "0", "--length", "512", "-o",
                    dir.resolve("x").toString());
            assertThat(read.code()).isEqualTo(1);
            assertThat(read.err().strip()).doesNotContain("\n").contains("NBD_EIO");
        }
    }
}
