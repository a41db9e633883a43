package org.bufcached.daemon.net;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import java.util.Collection;
import org.bufcached.config.TlsMode;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.tls.ClientIdentity;
import org.bufcached.daemon.tls.ServerCredentials;
import org.bufcached.daemon.tls.TlsSettings;

/**
 * The TLS rules of the NBD handshake for one connection, fixed when it is
 * accepted: the specification wants a server consistent in its TLS mode for the
 * life of a connection. The handshake handler consults it; the pipeline step
 * that puts the TLS handler in front of the codecs is here too.
 */
final class TlsPolicy {
    /** The modes of the specification's section "TLS support". */
    enum Mode {
        /** TLS is off: NBD_OPT_STARTTLS gets NBD_REP_ERR_POLICY. */
        NOTLS,
        /** TLS is offered; some exports may require it, the others serve plaintext clients too. */
        SELECTIVE,
        /** Every option but NBD_OPT_STARTTLS and NBD_OPT_ABORT gets NBD_REP_ERR_TLS_REQD until TLS is up. */
        FORCED
    }

    /** Name of the TLS handler in the pipeline. */
    static final String HANDLER_NAME = "tls";

    private final Mode mode;
    private final TlsSettings settings;

    private TlsPolicy(Mode mode, TlsSettings settings) {
        this.mode = mode;
        this.settings = settings;
    }

    /**
     * FORCED when the daemon requires TLS and no export lets plaintext clients
     * in; SELECTIVE when TLS is on, or required with some export set to
     * {@code tls: on}.
     */
    static TlsPolicy of(TlsSettings settings, Collection<Export> exports) {
        if (settings.credentials().isEmpty()) {
            return new TlsPolicy(Mode.NOTLS, settings);
        }
        boolean allTlsOnly = exports.stream().allMatch(export -> export.config().tlsOnly(settings.config()));
        boolean required = settings.config().mode() == TlsMode.REQUIRE;
        return new TlsPolicy(required && allTlsOnly ? Mode.FORCED : Mode.SELECTIVE, settings);
    }

    Mode mode() {
        return mode;
    }

    /** Whether plaintext clients are kept from {@code export}: TLS_REQD for INFO and GO, not listed. */
    boolean tlsOnly(Export export) {
        return export.config().tlsOnly(settings.config());
    }

    /**
     * Puts a new TLS handler at the head of the pipeline, after the connection
     * log (which then counts the bytes on the wire), in front of the codecs.
     */
    ChannelHandler insert(ChannelPipeline pipeline) {
        ServerCredentials credentials = settings.credentials().orElseThrow();
        ChannelHandler handler = credentials.newHandler(pipeline.channel());
        pipeline.addAfter(NbdServer.LOG_HANDLER, HANDLER_NAME, handler);
        return handler;
    }

    /** Who the client proved to be on {@code handler}, after a successful handshake. */
    ClientIdentity identity(ChannelHandler handler) {
        return settings.credentials().orElseThrow().identity(handler);
    }
}
