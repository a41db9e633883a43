package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The URIs the export lines show: one per listener, in the NBD URI specification's forms. */
class NbdUrisTest {
    @Test
    void tcpAndUnixListenersGiveTheirUris() {
        assertThat(NbdUris.of("disk", List.of(new InetSocketAddress("127.0.0.1", 10809),
                new DomainSocketAddress("/run/bufcached/nbd.sock")), false))
                .containsExactly("nbd://127.0.0.1:10809/disk", "nbd+unix:///disk?socket=/run/bufcached/nbd.sock");
    }

    @Test
    void ipv6IsBracketedAndTlsOnlyExportsUseNbds() {
        assertThat(NbdUris.of("disk", List.of(new InetSocketAddress("::1", 10809),
                new DomainSocketAddress("/run/bufcached/nbd.sock")), true))
                .containsExactly("nbds://[0:0:0:0:0:0:0:1]:10809/disk",
                        "nbds+unix:///disk?socket=/run/bufcached/nbd.sock");
    }

    @Test
    void namesArePercentEncodedAndAWildcardShowsTheHostName() throws Exception {
        String host = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        assertThat(NbdUris.of("my disk/ü", List.of(new InetSocketAddress("0.0.0.0", 10809)), false))
                .containsExactly("nbd://" + host + ":10809/my%20disk%2F%C3%BC");
    }
}
