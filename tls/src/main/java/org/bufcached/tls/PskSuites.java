package org.bufcached.tls;

import java.security.SecureRandom;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;

/**
 * What both ends of TLS-PSK offer, chosen to meet GnuTLS as libnbd, nbdkit and
 * qemu configure it ({@code NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK}).
 *
 * <p>TLS 1.3 with an external PSK is what GnuTLS 3.6+ picks first: its binders
 * hash with SHA-256, so only a SHA-256 suite can carry it. TLS 1.2 is the
 * fallback for older peers, limited to the suites with a Diffie-Hellman
 * exchange (forward secrecy) and AES-GCM; GnuTLS has no ECDHE-PSK suite with
 * AES-GCM, so that is DHE-PSK. Plain PSK suites (no forward secrecy) are not
 * offered. Neither are the ChaCha20-Poly1305 suites: the JDK provider that
 * BouncyCastle runs on here does not give it ChaCha20 under the name it asks
 * for, and GnuTLS always offers AES-GCM too, which the server prefers.
 */
final class PskSuites {
    static final ProtocolVersion[] VERSIONS = ProtocolVersion.TLSv13.downTo(ProtocolVersion.TLSv12);

    static final int[] CIPHER_SUITES = {
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_DHE_PSK_WITH_AES_256_GCM_SHA384,
    };

    private PskSuites() {
    }

    /**
     * BouncyCastle's TLS on the JDK's own primitives: AES-GCM with the CPU's
     * instructions, X25519, the FFDHE groups.
     */
    static TlsCrypto crypto() {
        return new JcaTlsCryptoProvider().create(new SecureRandom());
    }
}
