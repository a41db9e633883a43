package org.bufcached.daemon.tls;

import java.io.IOException;
import java.util.Optional;
import org.bufcached.config.TlsConfig;

/**
 * The TLS configuration in force with the credentials read for it. Built whole
 * before it replaces the running one, so a reload whose files are bad changes
 * nothing; connections keep the settings they were accepted with.
 *
 * @param credentials empty when TLS is off
 */
public record TlsSettings(TlsConfig config, Optional<ServerCredentials> credentials) {
    public static final TlsSettings OFF = new TlsSettings(TlsConfig.OFF, Optional.empty());

    /** Reads the files {@code config} names; the message says which file is wrong and how. */
    public static TlsSettings load(TlsConfig config) throws IOException {
        if (!config.enabled()) {
            return new TlsSettings(config, Optional.empty());
        }
        try {
            ServerCredentials credentials = config.psk() ? PskCredentials.load(config) : X509Credentials.load(config);
            return new TlsSettings(config, Optional.of(credentials));
        } catch (IOException e) {
            throw new IOException("TLS credentials: " + e.getMessage(), e);
        }
    }

    /** For logs. */
    public String description() {
        return credentials.map(c -> "TLS " + config.mode().yamlName() + ": " + c.description()).orElse("TLS off");
    }
}
