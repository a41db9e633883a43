package org.bufcached.daemon.cachee2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.CMD_FLAG_FUA;
import static org.bufcached.daemon.testing.NbdWire.CMD_FLUSH;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bufcached.daemon.interop.DaemonProcess;
import org.bufcached.daemon.testing.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durability contract, second and third clauses, observed from outside: the
 * daemon runs under {@code strace -f -ttt -y} tracing fdatasync, fsync,
 * sync_file_range and msync. A client does WRITE, FLUSH twenty times, then five
 * WRITEs with FUA, noting CLOCK_REALTIME just before sending each FLUSH (or FUA
 * WRITE) and just after its reply arrived. Every such interval must contain a
 * complete, successful fdatasync (or fsync) of the export's file: entered after
 * the request was sent, returned before the reply arrived. Runs the fallback
 * engine, whose file operations are system calls. Skips when strace is missing or
 * ptrace is not permitted.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class FlushStraceIT {
    private static final int ROUNDS = 20;
    private static final int FUA_WRITES = 5;

    @TempDir
    Path tmp;

    /** One traced call: who, when it entered and returned (µs since the epoch), on what, with what result. */
    record Call(int pid, String name, long entered, long returned, String args, String result) {
    }

    private static long nowMicros() {
        Instant n = Instant.now();
        return n.getEpochSecond() * 1_000_000L + n.getNano() / 1000;
    }

    private static long micros(String ttt) {
        int dot = ttt.indexOf('.');
        return Long.parseLong(ttt.substring(0, dot)) * 1_000_000L + Long.parseLong(ttt.substring(dot + 1));
    }

    private static final Pattern LINE = Pattern.compile("^(\\d+)\\s+(\\d+\\.\\d{6}) (.*)$");
    private static final Pattern COMPLETE = Pattern.compile("^(\\w+)\\((.*)\\)\\s+= (.*)$");
    private static final Pattern UNFINISHED = Pattern.compile("^(\\w+)\\((.*) <unfinished \\.\\.\\.>$");
    private static final Pattern RESUMED = Pattern.compile("^<\\.\\.\\. (\\w+) resumed>(.*)\\)\\s+= (.*)$");

    static List<Call> parse(List<String> lines) {
        List<Call> calls = new ArrayList<>();
        Map<Integer, String[]> open = new HashMap<>();
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            int pid = Integer.parseInt(m.group(1));
            long t = micros(m.group(2));
            String rest = m.group(3);
            Matcher c = COMPLETE.matcher(rest);
            Matcher u = UNFINISHED.matcher(rest);
            Matcher r = RESUMED.matcher(rest);
            if (u.matches()) {
                open.put(pid, new String[] {u.group(1), Long.toString(t), u.group(2)});
            } else if (r.matches()) {
                String[] o = open.remove(pid);
                if (o != null && o[0].equals(r.group(1))) {
                    calls.add(new Call(pid, o[0], Long.parseLong(o[1]), t, o[2] + r.group(2), r.group(3)));
                }
            } else if (c.matches()) {
                calls.add(new Call(pid, c.group(1), t, t, c.group(2), c.group(3)));
            }
        }
        return calls;
    }

    @Test
    void everyFlushAndFuaReplyFollowsAnFdatasyncOfTheExport() throws Exception {
        Path strace = Path.of("/usr/bin/strace");
        assumeTrue(Files.isExecutable(strace), "strace is not installed (Debian package strace); skipping");
        Process probe = new ProcessBuilder(strace.toString(), "-f", "-e", "trace=none", "-o", "/dev/null", "true")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        assumeTrue(probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0,
                "strace cannot trace here (ptrace not permitted?); skipping");

        Path file = tmp.resolve("flush-under-strace.img");
        Path log = tmp.resolve("strace.log");
        String yaml = """
                exports:
                  - name: fl
                    path: "%s"
                    size: 16MiB
                """.formatted(file);
        List<long[]> flushes = new ArrayList<>();
        List<long[]> fuas = new ArrayList<>();
        // The fallback engine: its syncs are system calls strace sees. Under io_uring the same
        // syncs (the same code above the engine) are ring operations, invisible to strace.
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("d")).yaml(yaml).engine("epoll")
                .wrapper(strace.toString(), "-f", "--seccomp-bpf", "-ttt", "-y", "-e",
                        "trace=fdatasync,fsync,sync_file_range,msync", "-o", log.toString())
                .start()) {
            try (RawClient c = d.open("fl", true)) {
                Random rnd = new Random(1);
                for (int i = 0; i < ROUNDS; i++) {
                    byte[] data = new byte[8192 + i];
                    rnd.nextBytes(data);
                    c.write(12345L * (i + 1) * 7, data).assertOk();
                    long t0 = nowMicros();
                    long cookie = c.send(CMD_FLUSH, 0, 0, 0);
                    c.expectReply(cookie).assertOk();
                    flushes.add(new long[] {t0, nowMicros()});
                }
                for (int i = 0; i < FUA_WRITES; i++) {
                    byte[] data = new byte[4096 * (i + 1) + 7];
                    rnd.nextBytes(data);
                    long t0 = nowMicros();
                    c.write((1L << 20) * (i + 2) + 99, data, CMD_FLAG_FUA).assertOk();
                    fuas.add(new long[] {t0, nowMicros()});
                }
                c.disconnect();
            }
            assertThat(d.terminate(Duration.ofSeconds(60)))
                    .as("exit code of strace (the daemon's) after SIGTERM; log:\n%s", d.log()).isZero();
        }
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        String name = file.getFileName().toString();
        List<Call> syncs = parse(lines).stream()
                .filter(x -> x.name().equals("fdatasync") || x.name().equals("fsync"))
                .filter(x -> x.args().contains(name))
                .toList();
        System.out.println("FlushStraceIT: " + syncs.size() + " fdatasync/fsync calls on " + name + " for " + ROUNDS
                + " FLUSH and " + FUA_WRITES + " FUA WRITE requests; " + lines.size() + " strace lines");
        assertThat(syncs).as("fdatasync/fsync calls on the export file in the strace log (%d lines)", lines.size())
                .hasSizeGreaterThanOrEqualTo(ROUNDS + FUA_WRITES);
        check("FLUSH", flushes, syncs, lines);
        check("FUA WRITE", fuas, syncs, lines);
    }

    private static void check(String what, List<long[]> intervals, List<Call> syncs, List<String> lines) {
        for (int i = 0; i < intervals.size(); i++) {
            long t0 = intervals.get(i)[0];
            long t1 = intervals.get(i)[1];
            boolean found = syncs.stream().anyMatch(s -> s.entered() >= t0 && s.returned() <= t1
                    && s.result().startsWith("0"));
            if (!found) {
                List<Call> near = syncs.stream().filter(s -> s.returned() >= t0 - 1_000_000 && s.entered() <= t1
                        + 1_000_000).toList();
                throw new AssertionError(what + " #" + i + " sent at " + t0 + " µs, reply at " + t1
                        + " µs: no successful fdatasync of the export entered after the request and returned"
                        + " before the reply. Calls within 1 s: " + near);
            }
        }
    }
}
