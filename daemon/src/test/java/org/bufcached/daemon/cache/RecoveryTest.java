package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.cache.CacheFixture.BS;
import static org.bufcached.daemon.cache.CacheFixture.MIB;
import static org.bufcached.daemon.cache.CacheFixture.into;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.Posix;
import org.bufcached.daemon.store.Syscalls;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recovery after a write-back error, on real files through the fallback
 * engine: the write-back really goes to the disk, but reports EIO as a failing
 * disk would after the kernel marked the pages clean. The pages still in memory
 * are written again and the next FLUSH succeeds with the data on disk; pages the
 * kernel dropped meanwhile are lost, and no FLUSH succeeds over them.
 */
class RecoveryTest {
    private static final int POSIX_FADV_DONTNEED = 4;

    @TempDir
    Path dir;

    private CacheFixture fx;
    private BufCache cache;
    private CachedFile f;
    private byte[] expected;

    @BeforeEach
    void setUp() throws Exception {
        fx = new CacheFixture(dir, CacheFixture.cfg(), 1);
        cache = fx.cache;
        f = fx.file("disk", 2 * MIB, false);
        expected = new byte[(int) (4 * BS)];
        new Random(7).nextBytes(expected);
        write(0, expected);
    }

    @AfterEach
    void tearDown() throws Exception {
        fx.close();
    }

    private void write(long offset, byte[] data) throws Exception {
        ByteBuf payload = ByteBufAllocator.DEFAULT.directBuffer(data.length).writeBytes(data);
        CompletableFuture<Throwable> answer = new CompletableFuture<>();
        cache.write(f, offset, payload, false, into(answer));
        assertThat(answer.get(10, TimeUnit.SECONDS)).isNull();
    }

    private Throwable flush() throws Exception {
        CompletableFuture<Throwable> answer = new CompletableFuture<>();
        cache.sync(f, into(answer));
        return answer.get(10, TimeUnit.SECONDS);
    }

    /**
     * The write-back reaches the disk (the pages become clean) and then reports EIO;
     * with {@code evict}, the kernel drops those clean pages first, as it may under
     * memory pressure. The whole file's clean pages are dropped, not only the range's:
     * fadvise drops only folios wholly inside its range, and a large folio reaching
     * past the write-back's range kept its pages in memory now and then (the recovery
     * then rightly found them and the file never became LOST).
     */
    private void failWriteBack(boolean evict) {
        f.writeBack = (file, io, off, len, done) -> io.syncFileRange(file.writebackFd, off, len,
                Posix.SYNC_FILE_RANGE_WAIT_BEFORE | Posix.SYNC_FILE_RANGE_WRITE | Posix.SYNC_FILE_RANGE_WAIT_AFTER,
                result -> {
                    if (evict) {
                        Syscalls.fadvise(file.fd, 0, 0, POSIX_FADV_DONTNEED);
                    }
                    done.complete(-Errno.EIO);
                });
    }

    private void flushers() {
        BufDaemon d = new BufDaemon(cache, false, Runnable::run, n -> { });
        assertThat(d.flushbufqueues()).isPositive();
    }

    private void awaitState(Durability.State state) throws InterruptedException {
        CacheFixture.await(() -> "durability " + state + ", is " + f.durabilityState(),
                () -> f.durability.state() == state);
    }

    @Test
    void pagesStillInMemoryAreWrittenAgainAndTheNextFlushSucceeds() throws Exception {
        failWriteBack(false);
        flushers();
        CacheFixture.await("the write-back's failure", () -> f.stats().writebackErrors() == 1);
        // (The background recovery may already be under way.) The disk is fine again:
        // the next FLUSH rewrites whatever is still in doubt, then syncs.
        f.writeBack = CachedFile.WriteBack.SYNC_FILE_RANGE;
        assertThat(flush()).isNull();
        assertThat(f.durability.state()).isEqualTo(Durability.State.CLEAN);
        byte[] onDisk = Arrays.copyOf(Files.readAllBytes(dir.resolve("disk")), expected.length);
        assertThat(onDisk).isEqualTo(expected);
    }

    @Test
    void pagesDroppedBeforeTheRecoveryAreLostAndNoFlushSucceedsOverThem() throws Exception {
        failWriteBack(true);
        flushers();
        awaitState(Durability.State.LOST);
        f.writeBack = CachedFile.WriteBack.SYNC_FILE_RANGE;
        for (int i = 0; i < 3; i++) {
            Throwable t = flush();
            assertThat(t).as("flush %d", i).isInstanceOf(DurabilityException.class);
            assertThat(t.getMessage()).contains("lost");
        }
        assertThat(f.durabilityState()).contains("lost");
        // The client writes the lost range again, whole: new contents, nothing in doubt any more.
        write(0, expected);
        assertThat(flush()).isNull();
        assertThat(f.durability.state()).isEqualTo(Durability.State.CLEAN);
        assertThat(Arrays.copyOf(Files.readAllBytes(dir.resolve("disk")), expected.length)).isEqualTo(expected);
    }

    /**
     * A write that covers a page in doubt in part, before the recovery reached it:
     * if the kernel dropped the page, the write would have it read back from the
     * disk, so the page is lost; if the page is still in memory, the write makes it
     * dirty again and it stays merely in doubt. The recovery is held off.
     */
    private void partialWriteOverAPageInDoubt(boolean evicted) throws Exception {
        f.durability.recovery((durability, io) -> { });
        failWriteBack(evicted);
        flushers();
        awaitState(Durability.State.FAILED);
        byte[] part = new byte[512];
        new Random(8).nextBytes(part);
        write(BS + 512, part);
    }

    @Test
    void aPartialWriteOverAnEvictedPageInDoubtLosesIt() throws Exception {
        partialWriteOverAPageInDoubt(true);
        assertThat(f.durability.state()).isEqualTo(Durability.State.LOST);
        assertThat(f.durabilityState()).contains("lost");
    }

    @Test
    void aPartialWriteOverAPageInDoubtStillInMemoryKeepsIt() throws Exception {
        partialWriteOverAPageInDoubt(false);
        assertThat(f.durability.state()).isEqualTo(Durability.State.FAILED);
    }
}
