package org.bufcached.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.bufcached.protocol.Nbd;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The library against bufcached with extended headers asked for and not: the same
 * results either way, but only with extended headers does one TRIM, WRITE_ZEROES
 * or BLOCK_STATUS cover more than 4 GiB. A 16 GiB sparse export; its file's
 * allocation is read with stat(1).
 */
class ExtendedHeadersClientTest {
    private static final long GIB = 1L << 30;
    private static final int MIB = 1 << 20;
    private static final long SIZE = 16 * GIB;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "extended headers {0}")
    @ValueSource(booleans = {true, false})
    void largeRangesOnASparseExport(boolean extended) throws Exception {
        Path file = dir.resolve("big.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        try (TestServer server = TestServer.bufcached(dir, file, "off");
             NbdClient client = NbdClient.connect(server.uri(), ClientOptions.DEFAULT.withExtendedHeaders(extended))
                     .get(10, TimeUnit.SECONDS)) {
            assertThat(client.info().extendedHeaders()).isEqualTo(extended);
            assertThat(client.info().structuredReplies()).isTrue();
            for (long at : new long[] {GIB, 3 * GIB, 9 * GIB, 12 * GIB}) {
                client.write(at, Unpooled.wrappedBuffer(data(at)), false).get(10, TimeUnit.SECONDS);
            }
            client.flush().get(10, TimeUnit.SECONDS);
            long before = allocated(file);

            client.trim(2 * GIB, 8 * GIB).get(30, TimeUnit.SECONDS);
            client.writeZeroes(11 * GIB, 5 * GIB, 0).get(30, TimeUnit.SECONDS);

            assertThat(before - allocated(file)).as("the MiB at 3, 9 and 12 GiB are punched out")
                    .isGreaterThanOrEqualTo(3L * MIB);
            assertRead(client, GIB, data(GIB));
            assertRead(client, 3 * GIB, new byte[MIB]);
            assertRead(client, 12 * GIB, new byte[MIB]);
            assertThat(client.extents(0, SIZE).get(30, TimeUnit.SECONDS)).containsExactly(
                    new Extent(0, GIB, 3), new Extent(GIB, MIB, 0), new Extent(GIB + MIB, 15 * GIB - MIB, 3));

            List<Extent> one = client.blockStatus(0, SIZE).get(10, TimeUnit.SECONDS);
            if (extended) {
                assertThat(one).as("one BLOCK_STATUS, 64-bit descriptors").containsExactly(
                        new Extent(0, GIB, 3), new Extent(GIB, MIB, 0), new Extent(GIB + MIB, 15 * GIB - MIB, 3));
            } else {
                assertThat(one.get(one.size() - 1).end()).as("a compact request covers at most 1 GiB here")
                        .isLessThanOrEqualTo(GIB + MIB);
            }
            CompletableFuture<Object> raw = new CompletableFuture<>();
            client.submit(Nbd.NBD_CMD_TRIM, 0, 0, 8 * GIB, null, (result, error) -> {
                if (error != null) {
                    raw.completeExceptionally(error);
                } else {
                    raw.complete(result);
                }
            });
            if (extended) {
                raw.get(30, TimeUnit.SECONDS);
            } else {
                assertThatThrownBy(() -> raw.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().hasMessageContaining("does not fit 32 bits");
            }
        }
    }

    private static byte[] data(long at) {
        byte[] b = new byte[MIB];
        java.util.Arrays.fill(b, (byte) (at / GIB + 1));
        return b;
    }

    private static void assertRead(NbdClient client, long offset, byte[] expected) throws Exception {
        ByteBuf b = client.read(offset, expected.length).get(10, TimeUnit.SECONDS);
        try {
            assertThat(ByteBufUtil.getBytes(b)).as("bytes at %d", offset).isEqualTo(expected);
        } finally {
            b.release();
        }
    }

    /** Bytes the file occupies on disk, from stat(1). */
    private static long allocated(Path file) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        String[] f = out.split(" ");
        return Long.parseLong(f[0]) * Long.parseLong(f[1]);
    }
}
