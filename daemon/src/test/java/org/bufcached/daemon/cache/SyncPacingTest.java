package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SyncPacingTest {
    private static final long S = TimeUnit.SECONDS.toNanos(1);
    private static final long T0 = 1_000 * S;

    @Test
    void nothingBeforeAClientSyncs() {
        assertThat(new SyncPacing().due(T0)).isFalse();
    }

    @Test
    void aFirstSyncAssumesAnIntervalUntilASecondOneTells() {
        SyncPacing pacing = new SyncPacing();
        pacing.clientSync(T0);
        assertThat(pacing.due(T0 + S / 10)).isTrue();
        pacing.finished();
        assertThat(pacing.due(T0 + 2 * SyncPacing.FIRST_INTERVAL_NANOS + 1)).as("no second sync came").isFalse();
        pacing.clientSync(T0 + 5 * S);
        assertThat(pacing.due(T0 + 5 * S + 3 * S)).as("syncing every 5 s").isTrue();
    }

    @Test
    void aFewWriteBacksPerIntervalOneAtATime() {
        SyncPacing pacing = new SyncPacing();
        pacing.clientSync(T0);
        pacing.clientSync(T0 + S);
        long now = T0 + S + S / 10;
        assertThat(pacing.due(now)).isTrue();
        pacing.finished();
        assertThat(pacing.due(now + S / SyncPacing.PER_INTERVAL - 1)).as("too soon after the last").isFalse();
        assertThat(pacing.due(now + S / SyncPacing.PER_INTERVAL)).isTrue();
        assertThat(pacing.due(now + 2 * S / SyncPacing.PER_INTERVAL)).as("the last one still runs").isFalse();
        pacing.finished();
        assertThat(pacing.due(now + 2 * S / SyncPacing.PER_INTERVAL)).isTrue();
    }

    @Test
    void noneOnceClientsStopSyncing() {
        SyncPacing pacing = new SyncPacing();
        pacing.clientSync(T0);
        pacing.clientSync(T0 + S);
        assertThat(pacing.due(T0 + 3 * S + 1)).as("silent for two intervals").isFalse();
        pacing.clientSync(T0 + 4 * S);
        assertThat(pacing.due(T0 + 4 * S + 1)).as("syncing again, every 3 s").isTrue();
    }

    @Test
    void noneForIntervalsBeyondTheKernelsDirtyExpiry() {
        SyncPacing pacing = new SyncPacing();
        pacing.clientSync(T0);
        pacing.clientSync(T0 + 31 * S);
        assertThat(pacing.due(T0 + 32 * S)).isFalse();
    }

    @Test
    void aNewWriterIsPacedAsIfItHadJustSyncedForTwoIntervals() {
        SyncPacing pacing = new SyncPacing();
        pacing.writerArrived(T0);
        assertThat(pacing.due(T0 + SyncPacing.FIRST_INTERVAL_NANOS / SyncPacing.PER_INTERVAL)).isTrue();
        pacing.finished();
        assertThat(pacing.due(T0 + 2 * SyncPacing.FIRST_INTERVAL_NANOS + 1)).as("it never synced").isFalse();
        pacing.clientSync(T0 + S);
        assertThat(pacing.due(T0 + S + S / SyncPacing.PER_INTERVAL)).as("it synced a second later").isTrue();
    }

    @Test
    void aNewWriterLeavesTheRhythmOfASyncingClientAlone() {
        SyncPacing pacing = new SyncPacing();
        pacing.clientSync(T0);
        pacing.clientSync(T0 + 4 * S);
        pacing.writerArrived(T0 + 5 * S);
        pacing.clientSync(T0 + 8 * S);
        long now = T0 + 8 * S + S / 10;
        assertThat(pacing.due(now)).isTrue();
        pacing.finished();
        assertThat(pacing.due(now + 3 * S / SyncPacing.PER_INTERVAL))
                .as("the interval is still 4 s, not the 3 s since the writer came").isFalse();
        assertThat(pacing.due(now + 4 * S / SyncPacing.PER_INTERVAL)).isTrue();
    }
}
