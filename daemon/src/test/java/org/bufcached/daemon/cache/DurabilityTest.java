package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoop;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.io.BlockingCall;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoCompletion;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.PosixException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The durability state machine alone, over a store whose fdatasync fails on
 * demand and a recovery the test plays by hand: what FLUSH answers after write-back
 * and sync errors, including Linux's habit of reporting an error once and then
 * letting the next sync succeed over the lost pages.
 */
class DurabilityTest {
    private static final int PAGE = 4096;
    private static final long SIZE = 1 << 20;

    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final FakeIo io = new FakeIo();
    private final FileStats stats = new FileStats();
    private Durability d;
    /** Recoveries started and not yet finished by the test. */
    private final List<Durability> recoveries = new ArrayList<>();

    @BeforeEach
    void setUp() {
        d = new Durability("disk", SIZE, 42, PAGE, stats, () -> io);
        d.recovery((durability, io) -> recoveries.add(durability));
    }

    @AfterEach
    void tearDown() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The fake store: every fdatasync is answered with the next queued result (0 when none is queued). */
    private final class FakeIo implements FileIo {
        final ArrayDeque<Long> syncResults = new ArrayDeque<>();
        int syncs;

        @Override
        public EventExecutor loop() {
            return loop;
        }

        @Override
        public void fdatasync(int fd, IoCompletion done) {
            syncs++;
            long result = syncResults.isEmpty() ? 0 : syncResults.poll();
            loop.execute(() -> done.complete(result));
        }

        @Override
        public void write(int fd, long address, int length, long offset, IoCompletion done) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void read(int fd, long address, int length, long offset, int rwFlags, IoCompletion done) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void syncFileRange(int fd, long offset, int length, int flags, IoCompletion done) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void fallocate(int fd, int mode, long offset, long length, IoCompletion done) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void fadvise(int fd, long offset, int length, int advice, IoCompletion done) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void madvise(long address, int length, int advice, IoCompletion done) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void offload(BlockingCall call, IoCompletion done) {
            throw new UnsupportedOperationException();
        }
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(10, TimeUnit.SECONDS);
    }

    private void onLoop(Runnable task) throws Exception {
        loop.submit(task).get(10, TimeUnit.SECONDS);
    }

    /** A FLUSH: null when answered OK, else why not. */
    private Throwable flush() throws Exception {
        CompletableFuture<Throwable> answer = new CompletableFuture<>();
        onLoop(() -> d.sync(failure -> answer.complete(failure), io));
        return answer.get(10, TimeUnit.SECONDS);
    }

    /** A FLUSH that has been asked for but may not be answered yet. */
    private CompletableFuture<Throwable> flushAsync() throws Exception {
        CompletableFuture<Throwable> answer = new CompletableFuture<>();
        onLoop(() -> d.sync(failure -> answer.complete(failure), io));
        return answer;
    }

    private void write(long offset, long length) throws Exception {
        onLoop(() -> d.written(offset, length, d.generation()));
    }

    /** Plays the recovery the state machine started: rewrites (or loses) every suspect page, then finishes it. */
    private void recover(boolean pagesStillInMemory) throws Exception {
        assertThat(recoveries).as("a recovery was started").isNotEmpty();
        recoveries.clear();
        onLoop(() -> {
            long[] run;
            long from = 0;
            while ((run = d.nextSuspectRun(from, SIZE / PAGE)) != null) {
                if (pagesStillInMemory) {
                    d.rewritten(run[0], run[1]);
                } else {
                    d.lost(run[0], run[1], "no longer in memory");
                }
                from = run[1];
            }
            d.recoveryFinished(io);
        });
    }

    @Test
    void aCleanFileAnswersEveryFlushAfterAnFdatasync() throws Exception {
        write(0, 8192);
        assertThat(flush()).isNull();
        assertThat(flush()).isNull();
        assertThat(io.syncs).isEqualTo(2);
        assertThat(d.state()).isEqualTo(Durability.State.CLEAN);
    }

    /**
     * The fsyncgate pattern: the fdatasync that meets the error reports it; the next
     * one succeeds because the kernel marked the failed pages clean. That second
     * FLUSH must not be answered OK until the pages in doubt were written again.
     */
    @Test
    void aFailedSyncIsNeverFollowedByAnOkThatCoversTheLostData() throws Exception {
        write(0, 65536);
        io.syncResults.add((long) -Errno.EIO);
        Throwable first = flush();
        assertThat(first).isInstanceOf(PosixException.class);
        assertThat(((PosixException) first).errno()).isEqualTo(Errno.EIO);
        assertThat(d.state()).isEqualTo(Durability.State.FAILED);
        assertThat(stats.durabilityFailed()).isTrue();
        assertThat(d.suspect(0, 65536)).isTrue();

        // The kernel would now answer 0; the FLUSH must first have the pages rewritten.
        CompletableFuture<Throwable> second = flushAsync();
        assertThat(recoveries).as("the FLUSH started a recovery before any sync").hasSize(1);
        assertThat(second).isNotDone();
        int syncsBefore = io.syncs;
        recover(true);
        assertThat(second.get(10, TimeUnit.SECONDS)).as("rewritten, then synced").isNull();
        assertThat(io.syncs).isEqualTo(syncsBefore + 1);
        assertThat(d.state()).isEqualTo(Durability.State.CLEAN);
        assertThat(stats.durabilityFailed()).isFalse();
    }

    @Test
    void pagesGoneFromMemoryKeepEveryFlushFailingUntilOverwritten() throws Exception {
        write(0, 3 * PAGE);
        io.syncResults.add((long) -Errno.EIO);
        assertThat(flush()).isNotNull();
        CompletableFuture<Throwable> second = flushAsync();
        recover(false);
        Throwable refused = second.get(10, TimeUnit.SECONDS);
        assertThat(refused).isInstanceOf(DurabilityException.class);
        assertThat(((PosixException) refused).errno()).isEqualTo(Errno.EIO);
        assertThat(refused.getMessage()).contains("lost", "[0, +12288)");
        assertThat(d.state()).isEqualTo(Durability.State.LOST);
        // The store is fine now, and still nothing lost is confirmed.
        for (int i = 0; i < 3; i++) {
            assertThat(flush()).as("flush %d after the loss", i).isInstanceOf(DurabilityException.class);
        }
        // A partial overwrite leaves the page lost; a whole one gives it new contents.
        onLoop(() -> d.redefined(100, PAGE));
        assertThat(flush()).isInstanceOf(DurabilityException.class);
        onLoop(() -> d.redefined(0, 3 * PAGE));
        assertThat(d.state()).isEqualTo(Durability.State.FAILED);
        assertThat(flush()).as("everything in doubt was overwritten by the client and synced").isNull();
        assertThat(d.state()).isEqualTo(Durability.State.CLEAN);
    }

    @Test
    void aWriteBackErrorInTheFlushersFailsTheNextFlushUntilRecovered() throws Exception {
        write(0, 65536);
        onLoop(() -> d.failed(Errno.EIO, "write-back of [0, +65536)"));
        assertThat(stats.writebackErrors()).isEqualTo(1);
        assertThat(d.state()).isEqualTo(Durability.State.FAILED);
        // The background recovery is scheduled; a FLUSH that comes first starts it itself.
        CompletableFuture<Throwable> flush = flushAsync();
        recover(true);
        assertThat(flush.get(10, TimeUnit.SECONDS)).isNull();
        assertThat(d.state()).isEqualTo(Durability.State.CLEAN);
    }

    @Test
    void theRecoveryRunsWithoutAFlushAndASyncProvesItClean() throws Exception {
        write(0, PAGE);
        onLoop(() -> d.failed(Errno.EIO, "write-back of [0, +4096)"));
        // Scheduled on the loop after the first back-off: wait for it to start.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (onLoop(() -> recoveries.isEmpty()) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        int syncs = io.syncs;
        recover(true);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (d.state() != Durability.State.CLEAN && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(d.state()).as("a background sync proved the rewrite").isEqualTo(Durability.State.CLEAN);
        assertThat(io.syncs).isEqualTo(syncs + 1);
    }

    /**
     * A write whose data was in the page cache when write-back failed, but which
     * marks its pages only afterwards, is in doubt too: it saw the failure count
     * move while it was in flight.
     */
    @Test
    void aWriteInFlightAcrossAFailureIsInDoubt() throws Exception {
        long generation = onLoop(() -> d.generation());
        onLoop(() -> d.failed(Errno.EIO, "write-back"));
        onLoop(() -> d.written(65536, PAGE, generation));
        assertThat(d.suspect(65536, PAGE)).isTrue();
        // A write issued after the failure is not.
        write(131072, PAGE);
        assertThat(d.suspect(131072, PAGE)).isFalse();
    }

    @Test
    void aWriteInFlightAcrossAFailureReopensAFileThatWasCleanAgain() throws Exception {
        long generation = onLoop(() -> d.generation());
        write(0, PAGE);
        io.syncResults.add((long) -Errno.EIO);
        assertThat(flush()).isNotNull();
        CompletableFuture<Throwable> f = flushAsync();
        recover(true);
        assertThat(f.get(10, TimeUnit.SECONDS)).isNull();
        assertThat(d.state()).isEqualTo(Durability.State.CLEAN);
        // A long write that started before the failure completes only now.
        onLoop(() -> d.written(8 * PAGE, PAGE, generation));
        assertThat(d.state()).isEqualTo(Durability.State.FAILED);
        CompletableFuture<Throwable> again = flushAsync();
        recover(true);
        assertThat(again.get(10, TimeUnit.SECONDS)).isNull();
    }

    /** Group commit: a FLUSH that arrives while a sync runs waits for the next one, which serves all such FLUSHes. */
    @Test
    void flushesArrivingDuringASyncShareTheNextOne() throws Exception {
        write(0, PAGE);
        CompletableFuture<Throwable> first = new CompletableFuture<>();
        List<CompletableFuture<Throwable>> later = new ArrayList<>();
        onLoop(() -> {
            d.sync(first::complete, io);
            for (int i = 0; i < 3; i++) {
                CompletableFuture<Throwable> f = new CompletableFuture<>();
                later.add(f);
                d.sync(f::complete, io); // queued behind the running sync on this same loop turn
            }
        });
        assertThat(first.get(10, TimeUnit.SECONDS)).isNull();
        for (CompletableFuture<Throwable> f : later) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isNull();
        }
        assertThat(io.syncs).as("one sync for the first FLUSH, one for the three that came during it").isEqualTo(2);
    }

    @Test
    void aFlushAfterCloseIsShutdown() throws Exception {
        d.close();
        Throwable t = flush();
        assertThat(t).isInstanceOf(PosixException.class);
        assertThat(((PosixException) t).errno()).isEqualTo(Errno.ESHUTDOWN);
    }
}
