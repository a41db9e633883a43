package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * fio's NBD engine (libnbd): random writes at queue depth 32 with crc32c
 * verification, a separate verifying read pass, and two jobs at once. Every run is
 * bounded by size and by {@code runtime}.
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class FioIT {
    private static final Duration FIO_TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    @BeforeEach
    void tools() {
        Tool.require("fio", "fio");
        Tool.Result engines = Tool.run("fio", "--enghelp");
        org.junit.jupiter.api.Assumptions.assumeTrue(engines.stdout().contains("nbd"),
                "this fio has no nbd ioengine (Debian's fio is built with libnbd); skipping");
    }

    private DaemonProcess daemon() throws Exception {
        return DaemonProcess.builder(tmp.resolve("daemon")).export("disk0", 128 * MiB).start();
    }

    @Test
    void randomWritesVerifiedWithCrc32cThenARandomReadVerifyPass() throws Exception {
        try (DaemonProcess d = daemon()) {
            // write 48 MiB at random 4k offsets, 32 in flight, verifying every block after the write phase
            Tool.Result write = fio(d, "write", "--rw=randwrite", "--bs=4k", "--size=48M", "--iodepth=32",
                    "--verify=crc32c", "--do_verify=1", "--verify_fatal=1");
            assertClean(write, 48 * MiB, 48 * MiB);

            // a new connection reads everything back in the random order of the write and verifies it
            Tool.Result verify = fio(d, "write", "--rw=randwrite", "--bs=4k", "--size=48M", "--iodepth=32",
                    "--verify=crc32c", "--verify_only=1", "--verify_fatal=1");
            assertClean(verify, -1, 48 * MiB); // fio counts the skipped writes too

            // mixed unaligned-size reads of the same area while verifying with another block size
            Tool.Result mixed = fio(d, "mixed", "--rw=randwrite", "--bsrange=512-64k", "--bs_unaligned=1",
                    "--size=16M", "--offset=64M", "--iodepth=32", "--verify=crc32c", "--do_verify=1",
                    "--verify_fatal=1");
            assertClean(mixed, -1, -1);

            // Proof that verification is real: overwrite the area with zeros, then the same pass must fail.
            fio(d, "zero", "--rw=write", "--bs=1M", "--size=48M", "--iodepth=8", "--zero_buffers=1").assertOk();
            Tool.Result broken = fio(d, "write", "--rw=randwrite", "--bs=4k", "--size=48M", "--iodepth=32",
                    "--verify=crc32c", "--verify_only=1", "--verify_fatal=1");
            assertThat(broken.exitCode()).as(broken.describe()).isNotZero();
            assertThat(broken.stdout() + broken.stderr()).contains("verify: bad magic header");
        }
    }

    @Test
    void twoJobsOnDisjointRangesWithVerify() throws Exception {
        try (DaemonProcess d = daemon()) {
            Tool.Result two = fio(d, "pair", "--numjobs=2", "--rw=randwrite", "--bs=4k", "--size=32M",
                    "--offset_increment=32M", "--iodepth=32", "--verify=crc32c", "--do_verify=1",
                    "--verify_fatal=1", "--group_reporting=0");
            assertThat(two.exitCode()).as(two.describe()).isZero();
            assertThat(jobErrors(two.stdout())).as("per-job error codes in\n%s", two.stdout())
                    .hasSize(2).containsOnly(0);
            assertThat(two.stdout() + two.stderr()).doesNotContain("verify:").doesNotContain("bad magic");

            // and a time-bounded mixed load of both jobs at once, reads verified as they go
            Tool.Result load = fio(d, "load", "--numjobs=2", "--rw=randrw", "--rwmixread=50", "--bs=4k",
                    "--size=32M", "--offset_increment=32M", "--iodepth=32", "--time_based=1", "--runtime=3",
                    "--verify=crc32c", "--verify_fatal=1");
            assertThat(load.exitCode()).as(load.describe()).isZero();
            assertThat(jobErrors(load.stdout())).hasSize(2).containsOnly(0);
        }
    }

    @Test
    void sigtermDuringLoadStopsGracefully() throws Exception {
        Path log = tmp.resolve("fio-load.log");
        Process fio = null;
        DaemonProcess d = DaemonProcess.builder(tmp.resolve("daemon")).export("disk0", 128 * MiB)
                .metrics(DaemonProcess.freePort()).start();
        try (d) {
            fio = Tool.background(log, "fio", "--name=load", "--ioengine=nbd", "--uri=" + d.uri("disk0"),
                    "--rw=randrw", "--bs=64k", "--size=64M", "--iodepth=32", "--time_based=1", "--runtime=60");
            // Under load: a good number of requests answered on the export, and fio still going.
            await().atMost(Duration.ofSeconds(30)).until(() -> d.metric("bufcached_requests_total",
                    "export=\"disk0\"") >= 2000);
            assertThat(fio.isAlive()).as("fio under load before SIGTERM:\n%s", Tool.text(log)).isTrue();
            d.close(); // SIGTERM: requests in flight answered, exit code 0 (asserted by close)
            assertThat(d.log()).as("the drain answered every request in flight before its deadline")
                    .contains("shutting down:").doesNotContain("still in flight after")
                    .contains("stopped");
            assertThat(fio.waitFor(30, TimeUnit.SECONDS)).as("fio ends once the server is gone:\n%s", Tool.text(log))
                    .isTrue();
            assertThat(fio.exitValue()).as("fio's requests after the stop failed:\n%s", Tool.text(log)).isNotZero();
        } finally {
            if (fio != null && fio.isAlive()) {
                Tool.killTree(fio.toHandle());
            }
        }
    }

    /** Runs fio with the nbd engine on the daemon's Unix socket, with JSON output on stdout. */
    private Tool.Result fio(DaemonProcess d, String name, String... options) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("fio", "--name=" + name, "--ioengine=nbd",
                "--uri=" + d.uri("disk0"), "--output-format=json", "--runtime=30", "--randrepeat=1"));
        cmd.addAll(List.of(options));
        Files.createDirectories(tmp.resolve("fio"));
        return Tool.run(FIO_TIMEOUT, tmp.resolve("fio"), cmd);
    }

    /** Exit 0, fio's job error 0, no verify message, and the byte counts when given (negative: any). */
    static void assertClean(Tool.Result r, long written, long read) {
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(jobErrors(r.stdout())).as(r.describe()).containsOnly(0).isNotEmpty();
        assertThat(r.stdout() + r.stderr()).as(r.describe()).doesNotContain("verify:").doesNotContain("bad magic");
        if (written >= 0) {
            assertThat(ioBytes(r.stdout(), "write")).as("bytes written\n%s", r.stdout()).isEqualTo(written);
        }
        if (read >= 0) {
            assertThat(ioBytes(r.stdout(), "read")).as("bytes read (verified)\n%s", r.stdout()).isEqualTo(read);
        }
    }

    /** The "error" field of each job in fio's JSON output. */
    private static List<Integer> jobErrors(String json) {
        List<Integer> errors = new ArrayList<>();
        Matcher m = Pattern.compile("\"jobname\"\\s*:\\s*\"[^\"]*\",\\s*\"groupid\"\\s*:\\s*\\d+,\\s*\"error\"\\s*:\\s*(-?\\d+)")
                .matcher(json);
        while (m.find()) {
            errors.add(Integer.parseInt(m.group(1)));
        }
        return errors;
    }

    /** The first job's io_bytes of the "read" or "write" direction. */
    private static long ioBytes(String json, String direction) {
        Matcher m = Pattern.compile("\"" + direction + "\"\\s*:\\s*\\{\\s*\"io_bytes\"\\s*:\\s*(\\d+)").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no " + direction + " io_bytes in fio output:\n" + json);
        }
        return Long.parseLong(m.group(1));
    }
}
