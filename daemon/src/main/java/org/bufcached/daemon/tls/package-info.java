/**
 * The daemon's TLS credentials: loaded from the files the configuration names
 * ({@link org.bufcached.daemon.tls.TlsSettings}), at start and again on every
 * reload, they make the handler a connection's NBD_OPT_STARTTLS puts in front
 * of its codecs (Netty's SslHandler for X.509, the BouncyCastle-based
 * {@link org.bufcached.tls.PskTlsHandler} for PSK) and tell who the client
 * proved to be ({@link org.bufcached.daemon.tls.ClientIdentity}).
 */
package org.bufcached.daemon.tls;
