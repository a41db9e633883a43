package org.bufcached.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Vector;
import org.bouncycastle.tls.AbstractTlsClient;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.BasicTlsPSKIdentity;
import org.bouncycastle.tls.PRFAlgorithm;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsAuthentication;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsPSKIdentity;

/** The client end of TLS-PSK: one username and its key, offered for TLS 1.3 and TLS 1.2. */
final class PskTlsClient extends AbstractTlsClient implements PskTlsHandler.Peer {
    private final String username;
    private final byte[] key;
    private final Runnable handshakeComplete;

    PskTlsClient(String username, byte[] key, Runnable handshakeComplete) {
        super(PskSuites.crypto());
        this.username = username;
        this.key = key.clone();
        this.handshakeComplete = handshakeComplete;
    }

    @Override
    protected ProtocolVersion[] getSupportedVersions() {
        return PskSuites.VERSIONS;
    }

    @Override
    protected int[] getSupportedCipherSuites() {
        return PskSuites.CIPHER_SUITES;
    }

    @Override
    public Vector getExternalPSKs() {
        Vector<Object> psks = new Vector<>();
        psks.add(new BasicTlsPSKExternal(username.getBytes(StandardCharsets.UTF_8), getCrypto().createSecret(key),
                PRFAlgorithm.tls13_hkdf_sha256));
        return psks;
    }

    @Override
    public TlsPSKIdentity getPSKIdentity() {
        return new BasicTlsPSKIdentity(username.getBytes(StandardCharsets.UTF_8), key);
    }

    /** A PSK server authenticates by the key; one that sends a certificate instead is refused. */
    @Override
    public TlsAuthentication getAuthentication() throws IOException {
        throw new TlsFatalAlert(AlertDescription.handshake_failure, "the server did not accept the pre-shared key");
    }

    @Override
    public void notifyHandshakeComplete() {
        handshakeComplete.run();
    }

    @Override
    public String identity() {
        return username;
    }

    @Override
    public String protocol() {
        return context.getServerVersion().getName();
    }

    @Override
    public String failureHint() {
        return "";
    }
}
