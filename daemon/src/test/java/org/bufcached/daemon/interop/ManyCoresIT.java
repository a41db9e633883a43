package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The default configuration on big machines: the JVM is told it has 16, 64 or 256
 * CPUs ({@code -XX:ActiveProcessorCount}), so the daemon runs one event loop per
 * "core" and sizes its cpumask from that; it must start and serve a verified fio
 * job as on a laptop.
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ManyCoresIT {
    @TempDir
    Path tmp;

    @BeforeEach
    void tools() {
        Tool.require("fio", "fio");
        org.junit.jupiter.api.Assumptions.assumeTrue(Tool.run("fio", "--enghelp").stdout().contains("nbd"),
                "this fio has no nbd ioengine; skipping");
    }

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {16, 64, 256})
    void startsAndServesAVerifiedFioJob(int cpus) throws Exception {
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("d" + cpus)).export("disk0", 64 * MiB)
                .jvm("-XX:ActiveProcessorCount=" + cpus).start()) {
            assertThat(d.log()).contains(cpus + " event loops");
            Files.createDirectories(tmp.resolve("fio"));
            Tool.Result r = Tool.run(Duration.ofSeconds(90), tmp.resolve("fio"), List.of("fio", "--name=many",
                    "--ioengine=nbd", "--uri=" + d.uri("disk0"), "--output-format=json", "--rw=randwrite",
                    "--bs=4k", "--size=16M", "--iodepth=32", "--numjobs=2", "--offset_increment=16M",
                    "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--randrepeat=1"));
            FioIT.assertClean(r, -1, -1);
        }
    }
}
