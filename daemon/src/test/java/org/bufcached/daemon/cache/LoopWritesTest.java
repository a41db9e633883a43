package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.cache.CacheFixture.KIB;
import static org.bufcached.daemon.cache.CacheFixture.MIB;
import static org.bufcached.daemon.cache.CacheFixture.into;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.bufcached.daemon.io.IoCompletion;
import org.bufcached.daemon.store.KernelDirty;
import org.bufcached.daemon.store.PageCacheWrites;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoopWritesTest {
    private static final PageCacheWrites NO_WAIT = new PageCacheWrites(false, 4096, "test");

    @TempDir
    Path dir;
    private CacheFixture fx;
    private CachedFile f;
    /** Whether the fixture's file takes loop writes on this machine (its filesystem, the kernel's dirty pages). */
    private boolean loopWritesHere;

    @BeforeEach
    void setUp() throws Exception {
        fx = new CacheFixture(dir, CacheFixture.cfg(), 1);
        f = fx.file("disk", 4 * MIB, false);
        loopWritesHere = !PageCacheWrites.of(dir.resolve("disk")).mayWaitForDisk() && KernelDirty.belowBackground();
    }

    @AfterEach
    void tearDown() throws Exception {
        fx.close();
    }

    @Test
    void onlySmallWritesOfWholeBlocks() {
        LoopWrites w = new LoopWrites("test", NO_WAIT, () -> true, System::nanoTime);
        assertThat(w.allow(0, 4096)).isTrue();
        assertThat(w.allow(8192, LoopWrites.MAX_LENGTH)).isTrue();
        assertThat(w.allow(8192, LoopWrites.MAX_LENGTH + 4096)).as("too long").isFalse();
        assertThat(w.allow(512, 4096)).as("starts inside a block").isFalse();
        assertThat(w.allow(4096, 1000)).as("ends inside a block").isFalse();
    }

    @Test
    void neverWhenTheFileCanWaitOrTheKernelIsPastItsBackgroundThreshold() {
        assertThat(new LoopWrites("test", new PageCacheWrites(true, 4096, "btrfs"), () -> true, System::nanoTime).allow(0, 4096)).isFalse();
        AtomicBoolean below = new AtomicBoolean(false);
        LoopWrites w = new LoopWrites("test", NO_WAIT, below::get, System::nanoTime);
        assertThat(w.allow(0, 4096)).isFalse();
        below.set(true);
        assertThat(w.allow(0, 4096)).isTrue();
    }

    @Test
    void notWhileAnotherWriteOrChangeIsAtTheWorkers() {
        LoopWrites w = new LoopWrites("test", NO_WAIT, () -> true, System::nanoTime);
        w.enterWorkers();
        w.enterWorkers();
        w.leaveWorkers();
        assertThat(w.allow(0, 4096)).isFalse();
        w.leaveWorkers();
        assertThat(w.allow(0, 4096)).isTrue();
    }

    @Test
    void aLoopWriteThatWaitedSendsTheFilesWritesToTheWorkersForAWhile() {
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        LoopWrites w = new LoopWrites("test", NO_WAIT, () -> true, clock::get);
        long started = w.now();
        clock.addAndGet(LoopWrites.STALL_NANOS - 1);
        assertThat(w.made(started)).as("quick enough").isFalse();
        assertThat(w.allow(0, 4096)).isTrue();

        started = w.now();
        clock.addAndGet(LoopWrites.STALL_NANOS);
        assertThat(w.made(started)).as("waited").isTrue();
        assertThat(w.allow(0, 4096)).isFalse();
        clock.addAndGet(LoopWrites.PAUSE_NANOS - 1);
        assertThat(w.allow(0, 4096)).isFalse();
        clock.addAndGet(1);
        assertThat(w.allow(0, 4096)).isTrue();

        // Another stall soon after: twice as long.
        stall(w, clock);
        clock.addAndGet(2 * LoopWrites.PAUSE_NANOS - 1);
        assertThat(w.allow(0, 4096)).isFalse();
        clock.addAndGet(1);
        assertThat(w.allow(0, 4096)).isTrue();

        // After a quiet while, the first length again.
        clock.addAndGet(LoopWrites.QUIET_NANOS);
        stall(w, clock);
        clock.addAndGet(LoopWrites.PAUSE_NANOS);
        assertThat(w.allow(0, 4096)).isTrue();
    }

    @Test
    void stallsThatKeepComingPauseForAMinuteAtMost() {
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        LoopWrites w = new LoopWrites("test", NO_WAIT, () -> true, clock::get);
        for (int i = 0; i < 10; i++) {
            long pause = Math.min(LoopWrites.PAUSE_NANOS << i, LoopWrites.MAX_PAUSE_NANOS);
            stall(w, clock);
            clock.addAndGet(pause - 1);
            assertThat(w.allow(0, 4096)).as("stall %d", i).isFalse();
            clock.addAndGet(1);
            assertThat(w.allow(0, 4096)).as("stall %d", i).isTrue();
        }
    }

    @Test
    void aSlowWriteBackPausesTheLoopWritesBeforeOneWaits() {
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        LoopWrites w = new LoopWrites("test", NO_WAIT, () -> true, clock::get);
        long small = 64 * KIB;
        long large = 16 * MIB;
        long slow = LoopWrites.SLOW_WRITEBACK_NANOS;
        long perByte = LoopWrites.NANOS_PER_WRITEBACK_BYTE;
        assertThat(w.wroteBack(small, slow + small * perByte - 1)).isFalse();
        assertThat(w.wroteBack(large, slow + large * perByte - 1)).as("large, at a healthy disk's speed").isFalse();
        assertThat(w.allow(0, 4096)).isTrue();

        assertThat(w.wroteBack(small, slow + small * perByte)).isTrue();
        assertThat(w.allow(0, 4096)).isFalse();
        clock.addAndGet(LoopWrites.PAUSE_NANOS);
        assertThat(w.allow(0, 4096)).isTrue();

        LoopWrites never = new LoopWrites("test", new PageCacheWrites(true, 4096, "btrfs"), () -> true, clock::get);
        assertThat(never.wroteBack(small, LoopWrites.MAX_PAUSE_NANOS)).as("no loop writes to pause").isFalse();
    }

    private static void stall(LoopWrites w, AtomicLong clock) {
        long started = w.now();
        clock.addAndGet(LoopWrites.STALL_NANOS);
        assertThat(w.made(started)).isTrue();
    }

    @Test
    void aSmallWriteOfWholePagesIsMadeOnTheLoopAndReachesTheFile() throws Exception {
        byte[] data = random((int) (16 * KIB), 1);
        long before = fx.cache.loopWrites.sum();

        assertThat(write(64 * KIB + 8 * KIB, data)).isNull();

        assertThat(fx.cache.loopWrites.sum() - before).isEqualTo(loopWritesHere ? 1 : 0);
        assertThat(readFile(64 * KIB + 8 * KIB, data.length)).isEqualTo(data);
    }

    @Test
    void writesThatAreUnalignedOrLargeGoToTheWorkersAndLeaveNothingBehind() throws Exception {
        byte[] odd = random(3000, 2);
        byte[] large = random((int) (256 * KIB), 3);
        long before = fx.cache.loopWrites.sum();

        assertThat(write(100, odd)).isNull();
        assertThat(write(MIB, large)).isNull();

        assertThat(fx.cache.loopWrites.sum()).isEqualTo(before);
        assertThat(f.loopWrites.atWorkers()).isZero();
        assertThat(readFile(100, odd.length)).isEqualTo(odd);
        assertThat(readFile(MIB, large.length)).isEqualTo(large);
        assertThat(write(0, random(4096, 4))).isNull();
        assertThat(fx.cache.loopWrites.sum() - before).isEqualTo(loopWritesHere ? 1 : 0);
    }

    @Test
    void aChangeAtTheWorkersKeepsWritesOffTheLoopUntilItCompletes() throws Exception {
        CompletableFuture<IoCompletion> held = new CompletableFuture<>();
        CompletableFuture<Throwable> trimmed = new CompletableFuture<>();
        fx.cache.change(f, 2 * MIB, MIB, (io, fd, offset, length, done) -> held.complete(done), false,
                into(trimmed));
        IoCompletion done = held.get(10, TimeUnit.SECONDS);
        assertThat(f.loopWrites.atWorkers()).isOne();
        long before = fx.cache.loopWrites.sum();
        byte[] data = random(4096, 5);

        assertThat(write(0, data)).isNull();

        assertThat(fx.cache.loopWrites.sum()).as("written by the workers").isEqualTo(before);
        assertThat(readFile(0, data.length)).isEqualTo(data);

        fx.onLoop(() -> done.complete(0));
        assertThat(trimmed.get(10, TimeUnit.SECONDS)).isNull();
        assertThat(f.loopWrites.atWorkers()).isZero();
        assertThat(write(4096, random(4096, 6))).isNull();
        assertThat(fx.cache.loopWrites.sum() - before).isEqualTo(loopWritesHere ? 1 : 0);
    }

    @Test
    void aChangeThatFailsToStartLeavesTheWorkers() throws Exception {
        CompletableFuture<Throwable> answer = new CompletableFuture<>();
        fx.cache.change(f, 0, MIB, (io, fd, offset, length, done) -> {
            throw new IllegalStateException("injected");
        }, false, into(answer));

        assertThat(answer.get(10, TimeUnit.SECONDS)).hasMessageContaining("injected");
        assertThat(f.loopWrites.atWorkers()).isZero();
    }

    private Throwable write(long offset, byte[] data) throws Exception {
        ByteBuf payload = ByteBufAllocator.DEFAULT.directBuffer(data.length).writeBytes(data);
        CompletableFuture<Throwable> answer = new CompletableFuture<>();
        fx.onLoop(() -> fx.cache.write(f, offset, payload, false, into(answer)));
        return answer.get(10, TimeUnit.SECONDS);
    }

    private byte[] readFile(long offset, int length) throws Exception {
        try (FileChannel ch = FileChannel.open(dir.resolve("disk"))) {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
                // until the range is read
            }
            return b.array();
        }
    }

    private static byte[] random(int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }
}
