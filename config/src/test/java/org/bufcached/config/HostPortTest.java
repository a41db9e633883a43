package org.bufcached.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HostPortTest {

    @Test
    void parsesHostsIpv4AndBracketedIpv6() {
        assertThat(HostPort.parse("127.0.0.1:10809")).isEqualTo(new HostPort("127.0.0.1", 10809));
        assertThat(HostPort.parse("nbd.example.org:1")).isEqualTo(new HostPort("nbd.example.org", 1));
        assertThat(HostPort.parse("[::1]:10809")).isEqualTo(new HostPort("::1", 10809));
        assertThat(HostPort.parse("0.0.0.0:0").port()).isZero();
    }

    @Test
    void printsAsItParses() {
        assertThat(HostPort.parse("[::1]:10809")).hasToString("[::1]:10809");
        assertThat(HostPort.parse("localhost:80")).hasToString("localhost:80");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "127.0.0.1        | expected host:port",
        ":10809           | expected host:port",
        "host:            | expected host:port",
        "host:http        | expected host:port",
        "host:65536       | port must be between 0 and 65535",
        "host:123456      | expected host:port",
        "::1:10809        | write IPv6 addresses in brackets",
        "[127.0.0.1]:80   | brackets are only for IPv6",
        "bad_host:80      | invalid host",
        "[fe80::1%eth0]:80 | invalid host",
    })
    void rejectsMalformedEndpoints(String text, String message) {
        assertThatThrownBy(() -> HostPort.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }
}
