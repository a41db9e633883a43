package org.bufcached.daemon.tls;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;

/**
 * Credentials read from the files: each connection that sends NBD_OPT_STARTTLS
 * gets a handler of its own from them, and after the handshake the handler tells
 * who the client is.
 */
public interface ServerCredentials {
    /** A new TLS server handler for {@code channel}, in the state before the ClientHello. */
    ChannelHandler newHandler(Channel channel);

    /** The identity the client proved on {@code handler}, whose handshake succeeded. */
    ClientIdentity identity(ChannelHandler handler);

    /** For logs: the kind of credentials, where they came from, the implementation. */
    String description();
}
