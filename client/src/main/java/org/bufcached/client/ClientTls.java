package org.bufcached.client;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.nio.file.Files;
import org.bufcached.tls.CaTrust;
import org.bufcached.tls.CertificateDirectory;
import org.bufcached.tls.PskKeys;
import org.bufcached.tls.PskTlsHandler;
import org.bufcached.tls.TlsProviders;

/**
 * The TLS handler a connection puts at the head of its pipeline once the server
 * acknowledged NBD_OPT_STARTTLS: SslHandler for X.509 (BoringSSL where it loads),
 * {@link PskTlsHandler} for a PSK. Made from the files once per connection, so a
 * bad file fails the connect with a message that names it.
 */
abstract class ClientTls {
    abstract ChannelHandler newHandler(Channel channel);

    static ClientTls of(NbdUri uri) throws IOException {
        TlsOptions tls = uri.tls().orElseThrow();
        if (tls.pskFile().isPresent()) {
            String username = tls.pskUsername();
            byte[] key = PskKeys.keyOf(tls.pskFile().get(), username);
            return new ClientTls() {
                @Override
                ChannelHandler newHandler(Channel channel) {
                    return PskTlsHandler.client(username, key);
                }
            };
        }
        SslContext context = x509(tls, !uri.isUnix());
        return new ClientTls() {
            @Override
            ChannelHandler newHandler(Channel channel) {
                SslHandler handler = uri.isUnix() ? context.newHandler(channel.alloc())
                        : context.newHandler(channel.alloc(), uri.host(), uri.port());
                // The connect timeout and the server's handshake timeout bound it; one timer less.
                handler.setHandshakeTimeoutMillis(0);
                return handler;
            }
        };
    }

    /**
     * The server's chain is checked against {@code ca-cert.pem} (with
     * {@code ca-crl.pem} if present), else the JDK's authorities; over TCP its
     * name must match the URI's host. A Unix socket has no host name to match,
     * so there only the chain is checked.
     */
    private static SslContext x509(TlsOptions tls, boolean tcp) throws IOException {
        SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(TlsProviders.preferred())
                .protocols("TLSv1.3", "TLSv1.2");
        if (!tls.verifyPeer()) {
            builder.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
        } else {
            builder.endpointIdentificationAlgorithm(tcp ? "HTTPS" : null);
        }
        if (tls.certificates().isPresent()) {
            CertificateDirectory dir = new CertificateDirectory(tls.certificates().get());
            if (tls.verifyPeer()) {
                builder.trustManager(CaTrust.of(dir.caCert(), dir.caCrl()));
            }
            if (Files.exists(dir.clientCert()) && Files.exists(dir.clientKey())) {
                builder.keyManager(dir.clientCert().toFile(), dir.clientKey().toFile());
            }
        }
        try {
            return builder.build();
        } catch (Exception e) {
            throw new IOException(tls.certificates().map(d -> d + ": ").orElse("") + e.getMessage(), e);
        }
    }
}
