package org.bufcached.config;

import java.util.Locale;

/**
 * Which implementation serves X.509 TLS: {@link #OPENSSL} is BoringSSL through
 * netty-tcnative, {@link #JDK} the JDK's own; {@link #AUTO} takes BoringSSL where
 * its native library loads and the JDK otherwise. TLS-PSK always runs on
 * BouncyCastle.
 */
public enum TlsProvider {
    AUTO,
    OPENSSL,
    JDK;

    /** The spelling used in YAML. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
