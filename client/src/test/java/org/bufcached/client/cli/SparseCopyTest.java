package org.bufcached.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.bufcached.client.Extent;
import org.bufcached.client.TestServer;
import org.bufcached.client.sys.Holes;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A 256 MiB sparse image through an export and back: byte for byte, holes preserved. */
class SparseCopyTest {
    private static final long SIZE = 256L << 20;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = TestServer.Kind.class, names = {"NBDKIT_FILE", "QEMU_NBD", "BUFCACHED"})
    void sparseImageRoundTrip(TestServer.Kind kind) throws Exception {
        Path image = dir.resolve("sparse.img");
        Random random = new Random(3);
        long[] dataAt = {0, 17L << 20, 100L << 20, 200L << 20 + 12345 - 12345, SIZE - (1 << 20)};
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(SIZE);
            for (long at : dataAt) {
                byte[] b = new byte[1 << 20];
                random.nextBytes(b);
                f.seek(at);
                f.write(b);
            }
        }
        List<Extent> sourceMap = Holes.map(image, SIZE);
        org.junit.jupiter.api.Assumptions.assumeTrue(sourceMap.stream().anyMatch(Extent::hole),
                "the file system of " + dir + " does not report holes");

        try (TestServer server = TestServer.start(kind, dir, SIZE)) {
            String uri = server.uri().toString();
            CliTest.Run in = CliTest.run("copy", image.toString(), uri, "--verify");
            assertThat(in.code()).as(in.err()).isZero();
            Path back = dir.resolve("back.img");
            CliTest.Run out = CliTest.run("copy", uri, back.toString(), "--verify");
            assertThat(out.code()).as(out.err()).isZero();

            assertThat(Files.mismatch(image, back)).isEqualTo(-1L);
            long allocated = Holes.map(back, SIZE).stream().filter(e -> !e.hole()).mapToLong(Extent::length).sum();
            assertThat(allocated).as("allocated bytes of the copy").isLessThanOrEqualTo(16L << 20);
            for (long at : dataAt) {
                assertThat(Holes.map(back, SIZE)).anySatisfy(e -> {
                    assertThat(e.hole()).isFalse();
                    assertThat(e.offset()).isLessThanOrEqualTo(at);
                    assertThat(e.end()).isGreaterThanOrEqualTo(at + (1 << 20));
                });
            }
            if (server.file() != null && kind != TestServer.Kind.BUFCACHED) {
                long exported = Holes.map(server.file(), SIZE).stream().filter(e -> !e.hole())
                        .mapToLong(Extent::length).sum();
                assertThat(exported).as("allocated bytes of the export's file").isLessThanOrEqualTo(16L << 20);
            }
        }
    }
}
