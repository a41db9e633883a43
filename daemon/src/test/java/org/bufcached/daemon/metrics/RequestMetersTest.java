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
        assertThat(registry.get("bufcached.request.errors").tags("export", "a", "command", "write", "error", "ENOSPC")
                .counter().count()).isEqualTo(1);
        assertThat(registry.get("bufcached.request.duration").tags("export", "b", "command", "unknown").timer().count())
                .isEqualTo(1);
    }

    @Test
    void forgettingAnExportRemovesItsSeries() {
        meters.completed("gone", Nbd.NBD_CMD_FLUSH, 0, NbdError.EIO, 1000);
        meters.forget("gone");
        assertThat(registry.find("bufcached.requests").tags("export", "gone").meters()).isEmpty();
        assertThat(registry.find("bufcached.request.errors").tags("export", "gone").meters()).isEmpty();
    }
}
