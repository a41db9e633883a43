/**
 * The NBD wire format shared by server and client: the spec's constants
 * ({@link org.bufcached.protocol.Nbd}), handshake messages and option data
 * parsers, the pooled transmission request, the negotiated
 * {@link org.bufcached.protocol.TransmissionMode} (simple, structured or extended
 * headers), and the exceptions that mean a protocol violation. The Netty codecs
 * are in the {@code server} and {@code client} packages.
 */
package org.bufcached.protocol;
