package org.bufcached.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/**
 * The implementation behind Netty's SslHandler for X.509. BoringSSL (through
 * netty-tcnative-boringssl-static) is preferred where its native library loads:
 * it encrypts with the CPU's AES instructions without the JDK's per-record
 * copying, and measured faster here (README, "TLS"); the JDK's provider is the
 * fallback on every other platform.
 */
public final class TlsProviders {
    private TlsProviders() {
    }

    public static boolean openSslAvailable() {
        return OpenSsl.isAvailable();
    }

    /** Why BoringSSL did not load, for messages; null when it did. */
    public static Throwable openSslUnavailabilityCause() {
        return OpenSsl.unavailabilityCause();
    }

    /** BoringSSL where it loads, the JDK otherwise. */
    public static SslProvider preferred() {
        return openSslAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** A name for logs: which library, which version. */
    public static String describe(SslProvider provider) {
        return provider == SslProvider.JDK ? "JDK " + System.getProperty("java.version")
                : OpenSsl.versionString() + " (netty-tcnative)";
    }
}
