package org.bufcached.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.bufcached.client.Extent;
import org.bufcached.client.TestServer;
import org.bufcached.client.sys.Holes;
import org.bufcached.protocol.Nbd;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * How a copy from a file moves each piece: data by sendfile after a probe of its
 * first bytes, allocated zeroes as zeroes (a hole on the destination), data that
 * starts with zeroes read whole; a FLUSH on every connection at the end; and a
 * verify that finds the first byte that differs.
 */
class CopyPathsTest {
    private static final int MIB = 1 << 20;
    private static final long SIZE = 8L * MIB;

    @TempDir
    Path dir;

    /**
     * 8 MiB: a MiB of written zeroes (allocated, so data to SEEK_DATA), a MiB whose first
     * 8 KiB are zeroes and the rest random, a MiB of random data, and 5 MiB of hole.
     */
    private Path image() throws Exception {
        Path image = dir.resolve("image.img");
        Random random = new Random(9);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(SIZE);
            f.write(new byte[MIB]);
            byte[] b = new byte[MIB];
            random.nextBytes(b);
            Arrays.fill(b, 0, 8192, (byte) 0);
            b[8192] = 0x5a; // the first byte of data, never zero by chance
            f.write(b);
            random.nextBytes(b);
            f.write(b);
        }
        List<Extent> map = Holes.map(image, SIZE);
        Assumptions.assumeTrue(map.stream().anyMatch(Extent::hole), "the file system of " + dir + " reports no holes");
        assertThat(map.get(0)).as("written zeroes are data to SEEK_DATA").isEqualTo(new Extent(0, 3L * MIB, 0));
        return image;
    }

    @ParameterizedTest
    @EnumSource(value = TestServer.Kind.class, names = {"NBDKIT_FILE", "BUFCACHED"})
    void writtenZeroesGoAsZeroesAndDataStartingWithZeroesIsCopied(TestServer.Kind kind) throws Exception {
        Path image = image();
        try (TestServer server = TestServer.start(kind, dir, SIZE)) {
            CliTest.Run copy = CliTest.run("copy", image.toString(), server.uri().toString(), "--verify");
            assertThat(copy.code()).as(copy.err()).isZero();
            assertThat(copy.out()).startsWith("copied 8 MiB (2 MiB data, 6 MiB zero) in ");
            if (kind == TestServer.Kind.NBDKIT_FILE) {
                // nbdkit's file plugin punches a hole for a WRITE_ZEROES that may trim.
                assertThat(Holes.map(server.file(), SIZE).get(0)).as("the written zeroes became a hole")
                        .isEqualTo(new Extent(0, MIB, Nbd.NBD_STATE_HOLE | Nbd.NBD_STATE_ZERO));
            }
            assertThat(Files.mismatch(image, server.file())).isEqualTo(-1L);
        }
    }

    /** As nbdcopy: each of the four connections (nbdkit's memory plugin allows several) gets its FLUSH. */
    @Test
    void theCopyEndsWithAFlushOnEveryConnection() throws Exception {
        Path image = image();
        Path log = dir.resolve("requests.log");
        try (TestServer server = TestServer.nbdkit(dir, "--filter=log", "memory", String.valueOf(SIZE),
                "logfile=" + log)) {
            CliTest.Run copy = CliTest.run("copy", "-q", image.toString(), server.uri().toString());
            assertThat(copy.code()).as(copy.err()).isZero();
        }
        List<String> lines = Files.readAllLines(log);
        Set<String> connected = connections(lines, " Connect ");
        assertThat(connected).hasSize(4);
        assertThat(connections(lines, " Flush ")).isEqualTo(connected);
    }

    /** The connection numbers of nbdkit's log lines that contain {@code what}. */
    private static Set<String> connections(List<String> lines, String what) {
        return lines.stream().filter(l -> l.contains(what)).map(l -> l.replaceFirst(".* connection=(\\d+) .*", "$1"))
                .collect(Collectors.toSet());
    }

    /** nbdkit's null plugin discards writes and reads zeroes: the first data byte differs. */
    @Test
    void verifyNamesTheFirstByteThatDiffers() throws Exception {
        Path image = image();
        try (TestServer server = TestServer.nbdkit(dir, "null", String.valueOf(SIZE))) {
            CliTest.Run copy = CliTest.run("copy", image.toString(), server.uri().toString(), "--verify");
            assertThat(copy.code()).isEqualTo(1);
            assertThat(copy.err()).isEqualTo("bufcache: verify failed: byte " + (MIB + 8192)
                    + " differs between source and destination" + System.lineSeparator());
        }
    }
}
