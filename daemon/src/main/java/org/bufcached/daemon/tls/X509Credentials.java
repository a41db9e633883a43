package org.bufcached.daemon.tls;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.bufcached.config.TlsConfig;
import org.bufcached.config.TlsProvider;
import org.bufcached.tls.CaTrust;
import org.bufcached.tls.CertificateDirectory;
import org.bufcached.tls.TlsProviders;

/**
 * X.509 from a certificate directory, served by Netty's SslHandler: the server's
 * certificate and key, and with {@code verify-peer} the CA (and its revocation
 * list) that client certificates must chain to. TLS 1.3 and 1.2 only, as the NBD
 * specification advises.
 */
final class X509Credentials implements ServerCredentials {
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final SslContext context;
    private final String description;

    private X509Credentials(SslContext context, String description) {
        this.context = context;
        this.description = description;
    }

    static X509Credentials load(TlsConfig config) throws IOException {
        CertificateDirectory dir = new CertificateDirectory(config.certificates().orElseThrow());
        SslProvider provider = provider(config.provider());
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(
                    CertificateDirectory.require(dir.serverCert()).toFile(),
                    CertificateDirectory.require(dir.serverKey()).toFile())
                    .sslProvider(provider)
                    .protocols(PROTOCOLS);
            String clients = "client certificates not requested";
            if (config.verifyPeer()) {
                builder.trustManager(CaTrust.of(dir.caCert(), dir.caCrl())).clientAuth(ClientAuth.REQUIRE);
                clients = "client certificates verified against " + dir.caCert()
                        + dir.caCrl().map(crl -> " and " + crl).orElse("");
            }
            return new X509Credentials(builder.build(),
                    "X.509 from " + dir.dir() + " (" + TlsProviders.describe(provider) + "), " + clients);
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            // Netty reports a bad PEM file as an IllegalArgumentException or an SSLException.
            throw new IOException(dir.dir() + ": " + e.getMessage(), e);
        }
    }

    private static SslProvider provider(TlsProvider choice) throws IOException {
        switch (choice) {
            case JDK:
                return SslProvider.JDK;
            case OPENSSL:
                if (!TlsProviders.openSslAvailable()) {
                    throw new IOException("tls.provider is openssl, but BoringSSL did not load: "
                            + TlsProviders.openSslUnavailabilityCause());
                }
                return SslProvider.OPENSSL;
            default:
                return TlsProviders.preferred();
        }
    }

    @Override
    public ChannelHandler newHandler(Channel channel) {
        SslHandler handler = context.newHandler(channel.alloc());
        // The NBD handshake timeout covers the TLS handshake; one timer, one reason in the log.
        handler.setHandshakeTimeoutMillis(0);
        return handler;
    }

    @Override
    public ClientIdentity identity(ChannelHandler handler) {
        try {
            Certificate[] chain = ((SslHandler) handler).engine().getSession().getPeerCertificates();
            return ClientIdentity.certificate(((X509Certificate) chain[0]).getSubjectX500Principal());
        } catch (SSLPeerUnverifiedException e) {
            return ClientIdentity.ANONYMOUS; // no client certificate was asked for
        }
    }

    @Override
    public String description() {
        return description;
    }
}
