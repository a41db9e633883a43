package org.bufcached.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code nbds://} and {@code nbds+unix://} URIs with libnbd's TLS query parameters. */
class NbdUriTlsTest {
    @Test
    void nbdsOverTcpWithCertificates() {
        NbdUri uri = NbdUri.parse("nbds://example.com:10900/disk?tls-certificates=/etc/pki/x");
        assertThat(uri.host()).isEqualTo("example.com");
        assertThat(uri.port()).isEqualTo(10900);
        assertThat(uri.exportName()).isEqualTo("disk");
        assertThat(uri.tls()).contains(new TlsOptions(Optional.of(Path.of("/etc/pki/x")), Optional.empty(),
                Optional.empty(), true));
        assertThat(uri.toString()).isEqualTo("nbds://example.com:10900/disk?tls-certificates=/etc/pki/x");
        assertThat(NbdUri.parse(uri.toString())).isEqualTo(uri);
    }

    @Test
    void nbdsUnixWithAPskUserAndNoVerification() {
        NbdUri uri = NbdUri.parse("nbds+unix://alice@/vm?socket=/run/nbd.sock&tls-psk-file=/k.psk&tls-verify-peer=false");
        assertThat(uri.isUnix()).isTrue();
        assertThat(uri.socketPath()).isEqualTo("/run/nbd.sock");
        TlsOptions tls = uri.tls().orElseThrow();
        assertThat(tls.pskFile()).contains(Path.of("/k.psk"));
        assertThat(tls.pskUsername()).isEqualTo("alice");
        assertThat(tls.verifyPeer()).isFalse();
        assertThat(NbdUri.parse(uri.toString())).isEqualTo(uri);
    }

    @Test
    void thePskUsernameDefaultsToTheLoginName() {
        assertThat(NbdUri.parse("nbds://h/?tls-psk-file=/k").tls().orElseThrow().pskUsername())
                .isEqualTo(System.getProperty("user.name"));
        assertThat(NbdUri.parse("nbds://bob@h/").tls().orElseThrow().pskUsername()).isEqualTo("bob");
    }

    @Test
    void plaintextUrisHaveNoTls() {
        assertThat(NbdUri.parse("nbd://h/x").isTls()).isFalse();
        assertThat(NbdUri.isUri("nbds+unix:///?socket=s")).isTrue();
    }

    @Test
    void tlsParametersNeedATlsScheme() {
        assertThatThrownBy(() -> NbdUri.parse("nbd://h/x?tls-certificates=/d"))
                .hasMessageContaining("has TLS parameters but no TLS: use nbds:// or nbds+unix://");
        assertThatThrownBy(() -> NbdUri.parse("nbds://h/x?tls-verify-peer=maybe"))
                .hasMessageContaining("tls-verify-peer must be true or false");
    }
}
