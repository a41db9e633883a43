/**
 * TLS shared by the daemon and the client for NBD's STARTTLS: PSK files in the
 * format of nbdkit and GnuTLS's psktool ({@link org.bufcached.tls.PskKeys}),
 * TLS-PSK through BouncyCastle's TLS protocol driven by a Netty handler
 * ({@link org.bufcached.tls.PskTlsHandler}), the certificate directory layout of
 * nbdkit, qemu and libnbd ({@link org.bufcached.tls.CertificateDirectory}) and the
 * choice of provider for X.509 with Netty's SslHandler
 * ({@link org.bufcached.tls.TlsProviders}).
 */
package org.bufcached.tls;
