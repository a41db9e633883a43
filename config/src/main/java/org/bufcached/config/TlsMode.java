package org.bufcached.config;

import java.util.Locale;

/**
 * Whether the daemon speaks TLS, with nbdkit's names: {@link #OFF} answers
 * NBD_OPT_STARTTLS with NBD_REP_ERR_POLICY, {@link #ON} offers TLS and still
 * serves plaintext clients, {@link #REQUIRE} refuses plaintext. On an export,
 * {@code on} and {@code require} override the daemon's mode for that export.
 */
public enum TlsMode {
    OFF,
    ON,
    REQUIRE;

    /** The spelling used in YAML and on the command line. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
