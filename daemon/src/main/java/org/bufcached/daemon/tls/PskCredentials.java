package org.bufcached.daemon.tls;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.bufcached.config.TlsConfig;
import org.bufcached.tls.PskKeys;
import org.bufcached.tls.PskTlsHandler;

/** Pre-shared keys from a PSK file; the username whose key a client knew is its identity. */
final class PskCredentials implements ServerCredentials {
    private final PskKeys keys;
    private final String description;

    private PskCredentials(PskKeys keys, String description) {
        this.keys = keys;
        this.description = description;
    }

    /** Reads the file, refusing it again if others can read it: its mode may have changed since the start. */
    static PskCredentials load(TlsConfig config) throws IOException {
        Path file = config.pskFile().orElseThrow();
        Optional<String> problem = TlsConfig.pskFileProblem(file);
        if (problem.isPresent()) {
            throw new IOException(problem.get());
        }
        PskKeys keys = PskKeys.read(file);
        return new PskCredentials(keys, "PSK from " + file + " (" + keys.usernames().size() + " usernames)");
    }

    @Override
    public ChannelHandler newHandler(Channel channel) {
        return PskTlsHandler.server(keys);
    }

    @Override
    public ClientIdentity identity(ChannelHandler handler) {
        return ClientIdentity.psk(((PskTlsHandler) handler).identity());
    }

    @Override
    public String description() {
        return description;
    }
}
