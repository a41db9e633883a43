package org.bufcached.daemon.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdError;
import org.junit.jupiter.api.Test;

class RequestMetersTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RequestMeters meters = new RequestMeters(registry);

    @Test
    void countsRequestsBytesAndErrorsPerExportAndCommand() {
        meters.register("a");
        meters.register("b");
        meters.completed("a", Nbd.NBD_CMD_READ, 4096, null, 1000);
        meters.completed("a", Nbd.NBD_CMD_READ, 4096, null, 1000);
        meters.completed("a", Nbd.NBD_CMD_WRITE, 512, NbdError.ENOSPC, 1000);
        meters.completed("b", 99, 0, NbdError.EINVAL, 1000);

        assertThat(registry.get("bufcached.requests").tags("export", "a", "command", "read").counter().count())
                .isEqualTo(2);
        assertThat(registry.get("bufcached.request").tags("export", "a", "command", "read").counter().count())
                .isEqualTo(8192);
        assertThat(registry.get("bufcached.request").tags("export", "a", "command", "write").counter().count())
                .as("failed requests move no bytes").isZero();
        assertThat(registry.get("bufcached.request.errors").tags("export", "a", "error", "ENOSPC")
                .counter().count()).isEqualTo(1);
        assertThat(registry.get("bufcached.request.duration").tags("export", "b", "command", "unknown").timer().count())
                .isEqualTo(1);
    }

    @Test
    void everyCommandAndErrorExistsAtZeroFromRegistration() {
        meters.register("fresh");
        assertThat(registry.get("bufcached.request.errors").tags("export", "fresh").counters())
                .hasSize(NbdError.values().length).allMatch(c -> c.count() == 0);
        assertThat(registry.get("bufcached.requests").tags("export", "fresh").counters())
                .extracting(c -> c.getId().getTag("command"))
                .containsExactlyInAnyOrder("read", "write", "flush", "trim", "cache", "write_zeroes", "block_status");
        assertThat(registry.get("bufcached.request.duration").tags("export", "fresh", "command", "read").timer()
                .takeSnapshot().histogramCounts()).hasSize(LatencyBuckets.BOUNDS.length);
    }

    @Test
    void forgettingAnExportRemovesItsSeriesAndLateRequestsDoNotBringThemBack() {
        meters.register("gone");
        meters.completed("gone", Nbd.NBD_CMD_FLUSH, 0, NbdError.EIO, 1000);
        meters.forget("gone");
        meters.completed("gone", Nbd.NBD_CMD_READ, 512, null, 1000);
        assertThat(registry.find("bufcached.requests").tags("export", "gone").meters()).isEmpty();
        assertThat(registry.find("bufcached.request.errors").tags("export", "gone").meters()).isEmpty();
    }
}
