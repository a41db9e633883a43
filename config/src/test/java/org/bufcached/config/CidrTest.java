package org.bufcached.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {

    private static InetAddress ip(String literal) throws UnknownHostException {
        return InetAddress.getByName(literal);
    }

    @Test
    void matchesIpv4Networks() throws UnknownHostException {
        Cidr cidr = Cidr.parse("10.1.0.0/16");
        assertThat(cidr.matches(ip("10.1.0.0"))).isTrue();
        assertThat(cidr.matches(ip("10.1.255.255"))).isTrue();
        assertThat(cidr.matches(ip("10.2.0.1"))).isFalse();
        assertThat(cidr.matches(ip("::1"))).isFalse();
        assertThat(cidr).hasToString("10.1.0.0/16");
    }

    @Test
    void handlesPrefixesThatAreNotByteAligned() throws UnknownHostException {
        Cidr cidr = Cidr.parse("192.168.4.0/22");
        assertThat(cidr.matches(ip("192.168.7.200"))).isTrue();
        assertThat(cidr.matches(ip("192.168.8.1"))).isFalse();
        assertThat(cidr.matches(ip("192.168.3.255"))).isFalse();
    }

    @Test
    void matchesIpv6Networks() throws UnknownHostException {
        Cidr cidr = Cidr.parse("fd00:1234::/32");
        assertThat(cidr.matches(ip("fd00:1234:ffff::1"))).isTrue();
        assertThat(cidr.matches(ip("fd00:1235::1"))).isFalse();
        assertThat(cidr.matches(ip("10.0.0.1"))).isFalse();
    }

    @Test
    void aBareAddressIsOneHost() throws UnknownHostException {
        assertThat(Cidr.parse("127.0.0.1").prefixLength()).isEqualTo(32);
        assertThat(Cidr.parse("::1").prefixLength()).isEqualTo(128);
        assertThat(Cidr.parse("127.0.0.1").matches(ip("127.0.0.2"))).isFalse();
        assertThat(Cidr.parse("::1").matches(ip("::1"))).isTrue();
    }

    @Test
    void zeroPrefixMatchesTheWholeFamily() throws UnknownHostException {
        assertThat(Cidr.parse("0.0.0.0/0").matches(ip("203.0.113.9"))).isTrue();
        assertThat(Cidr.parse("::/0").matches(ip("2001:db8::1"))).isTrue();
        assertThat(Cidr.parse("::/0").matches(ip("203.0.113.9"))).isFalse();
    }

    @Test
    void ipv4MappedClientsMatchIpv4Networks() throws UnknownHostException {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 7};
        InetAddress client = java.net.Inet6Address.getByAddress(null, mapped, -1);
        assertThat(Cidr.parse("10.0.0.0/8").matches(client)).isTrue();
        assertThat(Cidr.parse("11.0.0.0/8").matches(client)).isFalse();
    }

    @Test
    void rejectsHostBitsBelowThePrefix() {
        assertThatThrownBy(() -> Cidr.parse("10.1.2.3/8"))
                .hasMessage("\"10.1.2.3/8\" has host bits set below the /8 prefix");
        assertThatThrownBy(() -> Cidr.parse("fd00::1/64")).hasMessageContaining("host bits");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/8", "example.com", "example.com/24", "256.0.0.0/8", "10.0.0/8", "1.2.3.4.5",
        "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/x", "::/129", "fe80:::1", "fe80::1%eth0", "10.0.0.0/8/8"})
    void rejectsAnythingButAddressLiterals(String text) {
        assertThatThrownBy(() -> Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(text);
    }
}
