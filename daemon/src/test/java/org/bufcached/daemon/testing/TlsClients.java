package org.bufcached.daemon.testing;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLEngine;

/**
 * Client-side TLS engines for {@link RawClient#startTls}: the JDK's own TLS, so
 * the tests do not talk to the daemon through the daemon's TLS library, trusting
 * the {@code ca-cert.pem} of a client directory and presenting its
 * {@code client-cert.pem} if it has one. Netty only reads the PEM files.
 */
public final class TlsClients {
    private TlsClients() {
    }

    public static SSLEngine x509(Path clientDir) throws IOException {
        SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
                .trustManager(clientDir.resolve("ca-cert.pem").toFile())
                .protocols("TLSv1.3", "TLSv1.2");
        if (Files.exists(clientDir.resolve("client-cert.pem"))) {
            builder.keyManager(clientDir.resolve("client-cert.pem").toFile(), clientDir.resolve("client-key.pem").toFile());
        }
        SslContext context = builder.build();
        return context.newEngine(ByteBufAllocator.DEFAULT, "localhost", 0);
    }
}
