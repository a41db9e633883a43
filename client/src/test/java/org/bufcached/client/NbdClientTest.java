package org.bufcached.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The library against every server kind: our daemon, nbdkit (memory, file) and qemu-nbd. */
class NbdClientTest {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(TestServer.Kind.class)
    void handshakeReportsSizeFlagsAndBlockStatus(TestServer.Kind kind) throws Exception {
        try (TestServer server = TestServer.start(kind, dir, SIZE);
             NbdClient client = NbdClient.connect(server.uri()).get(10, TimeUnit.SECONDS)) {
            assertThat(client.size()).isEqualTo(SIZE);
            assertThat(client.info().structuredReplies()).isTrue();
            // nbdkit and qemu-nbd 7.2 do not know NBD_OPT_EXTENDED_HEADERS: the client falls back to structured replies.
            assertThat(client.info().extendedHeaders()).isEqualTo(kind == TestServer.Kind.BUFCACHED);
            assertThat(client.hasBlockStatus()).isTrue();
            assertThat(client.info().has(Nbd.NBD_FLAG_HAS_FLAGS)).isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(TestServer.Kind.class)
    void pipelinedWritesAndReadsRoundTrip(TestServer.Kind kind) throws Exception {
        try (TestServer server = TestServer.start(kind, dir, SIZE);
             NbdClient client = NbdClient.connect(server.uri()).get(10, TimeUnit.SECONDS)) {
            Random random = new Random(42);
            byte[][] blocks = new byte[256][];
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = new byte[4096];
                random.nextBytes(blocks[i]);
                writes.add(client.write(i * 65536L, Unpooled.wrappedBuffer(blocks[i]), i % 7 == 0
                        && client.info().has(Nbd.NBD_FLAG_SEND_FUA)));
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            List<CompletableFuture<ByteBuf>> reads = new ArrayList<>();
            for (int i = 0; i < blocks.length; i++) {
                reads.add(client.read(i * 65536L, 4096));
            }
            for (int i = 0; i < blocks.length; i++) {
                ByteBuf b = reads.get(i).get(10, TimeUnit.SECONDS);
                assertThat(ByteBufUtil.getBytes(b)).isEqualTo(blocks[i]);
                b.release();
            }
            client.flush().get(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @EnumSource(TestServer.Kind.class)
    void largeAndUnalignedRequestsAreSplitAndWidened(TestServer.Kind kind) throws Exception {
        try (TestServer server = TestServer.start(kind, dir, SIZE);
             NbdClient client = NbdClient.connect(server.uri()).get(10, TimeUnit.SECONDS)) {
            int length = 40 << 20; // above the 32 MiB maximum payload
            byte[] data = new byte[length];
            new Random(7).nextBytes(data);
            client.write(0, Unpooled.wrappedBuffer(data), false).get(30, TimeUnit.SECONDS);
            ByteBuf all = client.read(0, length).get(30, TimeUnit.SECONDS);
            assertThat(ByteBufUtil.equals(all, Unpooled.wrappedBuffer(data))).isTrue();
            all.release();
            ByteBuf part = client.read(1001, 3000).get(10, TimeUnit.SECONDS);
            assertThat(ByteBufUtil.getBytes(part)).isEqualTo(java.util.Arrays.copyOfRange(data, 1001, 4001));
            part.release();
        }
    }

    /**
     * WRITEs whose payload is a range of a file, sent by sendfile: compact headers (nbdkit,
     * qemu-nbd) and extended ones (bufcached, with NBD_CMD_FLAG_PAYLOAD_LEN), pipelined
     * with a buffer WRITE in between so that headers and payloads must stay in step.
     */
    @ParameterizedTest
    @EnumSource(TestServer.Kind.class)
    void writesFromAFileGoByRegion(TestServer.Kind kind) throws Exception {
        byte[] data = new byte[5 << 20];
        new Random(11).nextBytes(data);
        Path source = Files.write(dir.resolve("source.bin"), data);
        byte[] ones = new byte[4096];
        Arrays.fill(ones, (byte) 1);
        try (TestServer server = TestServer.start(kind, dir, SIZE);
             NbdClient client = NbdClient.connect(server.uri()).get(10, TimeUnit.SECONDS);
             FileChannel file = FileChannel.open(source)) {
            assertThat(client.canSendFile()).isTrue();
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                // the file's [i * 512 KiB, + 1 MiB) to the export at i MiB; then 4 KiB of ones right after it
                writes.add(client.writeFrom(i * (2L << 20), file, i * (512L << 10), 1 << 20,
                        i == 3 && client.info().has(Nbd.NBD_FLAG_SEND_FUA)));
                writes.add(client.write(i * (2L << 20) + (1 << 20), Unpooled.wrappedBuffer(ones), false));
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
            assertThat(file.isOpen()).as("the caller's file stays open").isTrue();
            for (int i = 0; i < 8; i++) {
                ByteBuf b = client.read(i * (2L << 20), (1 << 20) + 4096).get(10, TimeUnit.SECONDS);
                try {
                    byte[] got = ByteBufUtil.getBytes(b);
                    assertThat(Arrays.copyOfRange(got, 0, 1 << 20))
                            .isEqualTo(Arrays.copyOfRange(data, i * (512 << 10), i * (512 << 10) + (1 << 20)));
                    assertThat(Arrays.copyOfRange(got, 1 << 20, got.length)).isEqualTo(ones);
                } finally {
                    b.release();
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestServer.Kind.class)
    void zeroesTrimAndBlockStatus(TestServer.Kind kind) throws Exception {
        try (TestServer server = TestServer.start(kind, dir, SIZE);
             NbdClient client = NbdClient.connect(server.uri()).get(10, TimeUnit.SECONDS)) {
            byte[] ones = new byte[1 << 20];
            java.util.Arrays.fill(ones, (byte) 1);
            client.write(1 << 20, Unpooled.wrappedBuffer(ones), false).get(10, TimeUnit.SECONDS);
            client.flush().get(10, TimeUnit.SECONDS);
            List<Extent> extents = client.extents(0, SIZE).get(10, TimeUnit.SECONDS);
            assertThat(extents.get(0).offset()).isZero();
            assertThat(extents.get(extents.size() - 1).end()).isEqualTo(SIZE);
            assertThat(extents).anySatisfy(e -> {
                assertThat(e.kind()).isEqualTo("data");
                assertThat(e.offset()).isLessThanOrEqualTo(1 << 20);
                assertThat(e.end()).isGreaterThanOrEqualTo(2 << 20);
            });
            if (client.info().has(Nbd.NBD_FLAG_SEND_WRITE_ZEROES)) {
                client.writeZeroes(1 << 20, 4096, Nbd.NBD_CMD_FLAG_NO_HOLE).get(10, TimeUnit.SECONDS);
                ByteBuf b = client.read(1 << 20, 4096).get(10, TimeUnit.SECONDS);
                assertThat(ByteBufUtil.getBytes(b)).containsOnly(0);
                b.release();
            }
            if (client.info().has(Nbd.NBD_FLAG_SEND_TRIM)) {
                client.trim(1 << 20, 1 << 20).get(10, TimeUnit.SECONDS);
            }
            if (client.info().has(Nbd.NBD_FLAG_SEND_CACHE)) {
                client.cache(0, 1 << 20).get(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void serverErrorsMapToTypedExceptions() throws Exception {
        try (TestServer server = TestServer.nbdkit(dir, "--filter=error", "memory", "1M", "error-pwrite-rate=100%",
                "error-pwrite=ENOSPC");
             NbdClient client = NbdClient.connect(server.uri()).get(10, TimeUnit.SECONDS)) {
            assertThatThrownBy(() -> client.write(0, Unpooled.wrappedBuffer(new byte[512]), false).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(NbdCommandException.class,
                            e -> assertThat(e.error()).isEqualTo(NbdError.ENOSPC))
                    .hasMessageContaining("NBD_ENOSPC");
            ByteBuf ok = client.read(0, 512).get(10, TimeUnit.SECONDS);
            ok.release();
        }
    }

    @Test
    void commandsTheServerDidNotAdvertiseAreNotSent() throws Exception {
        try (TestServer server = TestServer.nbdkit(dir, "-r", "memory", "1M");
             NbdClient client = NbdClient.connect(server.uri()).get(10, TimeUnit.SECONDS)) {
            assertThat(client.info().readOnly()).isTrue();
            assertThatThrownBy(() -> client.write(0, Unpooled.wrappedBuffer(new byte[512]), false).get())
                    .cause().isInstanceOf(NbdException.class).hasMessageContaining("read-only");
            assertThatThrownBy(() -> client.read(1 << 20, 512).get())
                    .cause().hasMessageContaining("outside the export");
        }
    }

    @Test
    void exportNameFallbackAndSimpleReplies() throws Exception {
        // nbdkit's --mask-handshake hides GO and structured replies, as an old server would.
        try (TestServer server = TestServer.nbdkit(dir, "--mask-handshake=0", "memory", "1M")) {
            try (NbdClient client = NbdClient.connect(server.uri()).get(10, TimeUnit.SECONDS)) {
                assertThat(client.info().structuredReplies()).isFalse();
                client.write(0, Unpooled.wrappedBuffer(new byte[] {1, 2, 3, 4}), false).get(10, TimeUnit.SECONDS);
                ByteBuf b = client.read(0, 4).get(10, TimeUnit.SECONDS);
                assertThat(ByteBufUtil.getBytes(b)).containsExactly(1, 2, 3, 4);
                b.release();
            }
        }
    }

    @Test
    void listAndInfo() throws Exception {
        try (TestServer server = TestServer.nbdkit(dir, "--filter=exportname", "memory", "1M", "exportname=disk",
                "exportdesc=fixed:test disk", "exportname-list=explicit")) {
            assertThat(NbdClient.list(server.uri()).get(10, TimeUnit.SECONDS))
                    .containsExactly(new org.bufcached.protocol.OptionReplies.ServerEntry("disk", "test disk"));
            ExportInfo info = NbdClient.info(server.uri().withExport("disk")).get(10, TimeUnit.SECONDS);
            assertThat(info.size()).isEqualTo(1 << 20);
            assertThat(info.description()).isEqualTo("test disk");
            assertThat(info.metaContexts()).containsKey(Nbd.BASE_ALLOCATION);
        }
    }
}
