package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.cache.CacheFixture.BS;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** BufSpace on its own: bd_heatup, the bd_wait/bd_signal ring, waitrunningbufspace, the daemons' limits. */
class BufSpaceTest {
    private BufSpace space;

    @BeforeEach
    void setUp() {
        CacheFixture.Cfg cfg = CacheFixture.cfg(); // 16 buffers
        cfg.lodirtybufspace = 8 * BS;
        cfg.hidirtybufspace = 16 * BS; // mid-points at 12 and 14 buffers
        cfg.lorunningspace = 2 * BS;
        cfg.hirunningspace = 6 * BS; // 4/6 = 4 buffers, 3/6 = 3 buffers
        space = new BufSpace(cfg.build());
        assertThat(space.nbuf).isEqualTo(16);
    }

    // ---------------------------------------------------------------- bd_heatup

    @Test
    void bdHeatupIsZeroBelowTheFirstMidPoint() {
        space.dirtykvaspace.set(12 * BS - 1);
        assertThat(space.bd_heatup()).isZero();
        assertThat(space.bd_request.get()).as("the daemons were left alone").isZero();
    }

    @Test
    void bdHeatupWakesTheDaemonsBetweenTheMidPointsButAsksNoWait() {
        space.dirtykvaspace.set(13 * BS);
        assertThat(space.bd_heatup()).isZero();
        assertThat(space.bd_request.get()).isPositive();
        assertThat(space.bd_request_hw.get()).isPositive();
    }

    @Test
    void bdHeatupReturnsTheExcessOverTheSecondMidPointCountingRunningSpace() {
        space.dirtykvaspace.set(13 * BS);
        space.runningbufspace.set(2 * BS + 100);
        assertThat(space.bd_heatup()).isEqualTo(BS + 100);
        space.runningbufspace.set(0);
        space.dirtykvaspace.set(14 * BS);
        assertThat(space.bd_heatup()).isZero();
        space.dirtykvaspace.set(20 * BS);
        assertThat(space.bd_heatup()).isEqualTo(6 * BS);
    }

    @Test
    void bdHeatupWakesOnTooManyDirtyBuffersEvenWithLittleDirtySpace() {
        space.dirtykvaspace.set(BS);
        space.dirtybufcount.set(8);
        assertThat(space.bd_heatup()).isZero();
        assertThat(space.bd_request.get()).isPositive();
    }

    // ---------------------------------------------------------------- bd_wait / bd_signal

    @Test
    void bdWaitWithNoExcessResumesAtOnce() {
        AtomicInteger resumed = new AtomicInteger();
        space.bd_wait(0, resumed::incrementAndGet);
        assertThat(resumed).hasValue(1);
    }

    @Test
    void bdWaitParksUntilBdSignalRetiresEnough() {
        space.dirtykvaspace.set(20 * BS);
        AtomicInteger resumed = new AtomicInteger();
        space.bd_wait(4 * BS, resumed::incrementAndGet);
        assertThat(resumed).hasValue(0);

        space.dirtykvaspace.set(15 * BS); // under hidirtybufspace now
        space.bd_signal(BS); // one buffer's worth: not yet this writer's turn
        assertThat(resumed).hasValue(0);
        space.bd_signal(4 * BS);
        assertThat(resumed).hasValue(1);
        space.bd_signal(64 * BS);
        assertThat(resumed).as("resumed once").hasValue(1);
    }

    @Test
    void aWaiterWokenWhileStillAboveHidirtybufspaceWaitsAgain() {
        space.dirtykvaspace.set(20 * BS);
        AtomicInteger resumed = new AtomicInteger();
        space.bd_wait(4 * BS, resumed::incrementAndGet);
        space.bd_signal(BufSpace.BD_WAKE_SIZE * BS); // every slot passed, but still 4 buffers over
        assertThat(resumed).hasValue(0);

        space.dirtykvaspace.set(16 * BS); // at the mark: done
        space.bd_signal(BufSpace.BD_WAKE_SIZE * BS);
        assertThat(resumed).hasValue(1);
    }

    @Test
    void recheckWaitersWakesEveryWaiterUnderTheMark() {
        space.dirtykvaspace.set(40 * BS);
        AtomicInteger resumed = new AtomicInteger();
        space.bd_wait(BS, resumed::incrementAndGet);
        space.bd_wait(10 * BS, resumed::incrementAndGet);
        space.bd_wait(40 * BS, resumed::incrementAndGet);
        assertThat(resumed).hasValue(0);
        space.dirtykvaspace.set(0);
        space.recheckWaiters();
        assertThat(resumed).hasValue(3);
    }

    @Test
    void recheckWaitersWakesBufferWaitersToo() {
        AtomicInteger retried = new AtomicInteger();
        space.waitForBuffer(retried::incrementAndGet);
        assertThat(space.buffersWaiting()).isEqualTo(1);
        assertThat(space.bd_request.get()).as("getnewbuf out of buffers wakes the daemons").isPositive();
        space.recheckWaiters();
        assertThat(retried).hasValue(1);
        assertThat(space.buffersWaiting()).isZero();
    }

    /**
     * The flushers call recheckWaiters on every pass. A writer that is still above
     * hidirtybufspace must stay parked and the call must return; it must not spin
     * re-parking the writer into the very slot it is draining.
     */
    @Test
    void recheckWaitersReturnsWhileAWaiterIsStillAboveTheMark() throws Exception {
        space.dirtykvaspace.set(20 * BS);
        AtomicInteger resumed = new AtomicInteger();
        // As CachedStore does: wait out bd_heatup's excess (over the second mid-point).
        space.bd_wait(space.bd_heatup(), resumed::incrementAndGet);
        assertThat(resumed).hasValue(0);

        // Two passes of a flusher with nothing retired in between: the first moves the writer
        // to the slot of its remaining excess, the second drains that very slot.
        Thread flusher = new Thread(() -> {
            space.recheckWaiters();
            space.recheckWaiters();
        }, "recheck");
        flusher.setDaemon(true);
        flusher.start();
        flusher.join(TimeUnit.SECONDS.toMillis(3));
        boolean stuck = flusher.isAlive();
        // Let a stuck flusher go: under the mark, the waiter resumes and the drain ends.
        space.dirtykvaspace.set(0);
        flusher.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(stuck).as("recheckWaiters spun on a waiter still above hidirtybufspace").isFalse();
        assertThat(resumed).as("the waiter stayed parked, then resumed when released").hasValue(stuck ? 1 : 0);
        space.recheckWaiters();
        assertThat(resumed).hasValue(1);
    }

    // ---------------------------------------------------------------- waitrunningbufspace

    @Test
    void waitrunningbufspaceReturnsAtOnceAtOrBelowFourSixths() throws Exception {
        space.runningStarted(4 * BS, false);
        Thread t = new Thread(() -> space.waitrunningbufspace(false));
        t.start();
        t.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(t.isAlive()).isFalse();
    }

    @Test
    void waitrunningbufspaceAboveFourSixthsWaitsForThreeSixths() throws Exception {
        space.runningStarted(3 * BS, false);
        space.runningStarted(2 * BS, false); // 5 buffers: over 4/6 of 6
        Thread t = new Thread(() -> space.waitrunningbufspace(false), "flusher");
        t.setDaemon(true);
        t.start();
        CacheFixture.await("the flusher to wait", () -> t.getState() == Thread.State.TIMED_WAITING);

        space.runningDone(BS, false); // 4: not yet down to 3/6
        CacheFixture.await("the flusher to recheck", () -> t.getState() == Thread.State.TIMED_WAITING);
        t.join(300); // it rechecks every 100ms: give it a few
        assertThat(t.isAlive()).as("still waiting at 4/6").isTrue();

        space.runningDone(BS, false); // 3 = 3/6
        t.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(t.isAlive()).isFalse();
        assertThat(space.runningbufspace.get()).isEqualTo(3 * BS);
        assertThat(space.runningbufcount.get()).isEqualTo(0);
    }

    @Test
    void waitrunningbufspaceCountsOnlyTheCallersClass() throws Exception {
        space.runningStarted(6 * BS, true); // the heavy class is saturated
        Thread light = new Thread(() -> space.waitrunningbufspace(false));
        light.start();
        light.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(light.isAlive()).as("light write-back does not wait for heavy").isFalse();
        assertThat(space.running(true)).isEqualTo(6 * BS);
        assertThat(space.running(false)).isZero();
        space.runningDone(6 * BS, true);
        assertThat(space.running(true)).isZero();
        assertThat(space.runningbufspacehw.get()).isZero();
    }

    @Test
    void runningDoneSignalsWaitingWriters() {
        space.dirtykvaspace.set(20 * BS);
        AtomicInteger resumed = new AtomicInteger();
        space.bd_wait(4 * BS, resumed::incrementAndGet);
        space.dirtykvaspace.set(0);
        space.runningStarted(8 * BS, false);
        space.runningDone(8 * BS, false);
        assertThat(resumed).hasValue(1);
    }

    // ---------------------------------------------------------------- daemon limits

    @Test
    void theLightDaemonLimitCountsLightDirtyAndRunningSpaceAgainstItsShareOfTheLowMark() {
        space.dirtykvaspace.set(10 * BS);
        space.dirtybufspacehw.set(9 * BS); // 1 light buffer's worth: both classes are above the low mark, light is not
        assertThat(space.buf_daemon_limit()).isFalse();
        space.runningStarted(2 * BS, true); // heavy running: not the light daemon's business
        assertThat(space.buf_daemon_limit()).isFalse();
        space.runningStarted(3 * BS + 1, false); // light past half the low mark
        assertThat(space.buf_daemon_limit()).isTrue();
    }

    @Test
    void theHeavyDaemonLimitCountsHeavyDirtyAndRunningSpaceAgainstItsShareOfTheLowMark() {
        space.dirtykvaspace.set(10 * BS);
        space.dirtybufspacehw.set(BS);
        assertThat(space.buf_daemon_hw_limit()).isFalse();
        space.runningStarted(5 * BS, false);
        assertThat(space.buf_daemon_hw_limit()).isFalse();
        space.runningStarted(3 * BS + 1, true);
        assertThat(space.buf_daemon_hw_limit()).isTrue();
    }

    @Test
    void oneBusyClassAloneKeepsUpToTheWholeLowMarkDirty() {
        space.dirtykvaspace.set(8 * BS); // all light, at lodirtybufspace: past half of it, not above it
        assertThat(space.buf_daemon_limit()).isFalse();
        space.runningStarted(1, false);
        assertThat(space.buf_daemon_limit()).isTrue();
        assertThat(space.buf_daemon_hw_limit()).isFalse();
    }

    @Test
    void bothLimitsTripOnHalfTheBuffersDirtyInTheirClass() {
        space.dirtybufcount.set(8);
        space.dirtybufcounthw.set(8);
        assertThat(space.buf_daemon_hw_limit()).isTrue();
        assertThat(space.buf_daemon_limit()).isFalse();
        space.dirtybufcounthw.set(0);
        assertThat(space.buf_daemon_hw_limit()).isFalse();
        assertThat(space.buf_daemon_limit()).isTrue();
    }

    @Test
    void bdSpeedupWakesOnlyPastTheLowMark() {
        space.dirtykvaspace.set(8 * BS - 1);
        space.bd_speedup();
        assertThat(space.bd_request.get()).isZero();
        assertThat(space.bd_request_hw.get()).isZero();
        space.dirtykvaspace.set(8 * BS);
        space.bd_speedup();
        assertThat(space.bd_request.get()).isEqualTo(1);
        assertThat(space.bd_request_hw.get()).isEqualTo(1);
        space.bd_speedup(); // already requested
        assertThat(space.bd_request.get()).isEqualTo(1);
    }
}
