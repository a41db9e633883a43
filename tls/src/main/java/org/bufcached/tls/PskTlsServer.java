package org.bufcached.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Vector;
import org.bouncycastle.tls.AbstractTlsServer;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.PRFAlgorithm;
import org.bouncycastle.tls.PskIdentity;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.TlsPSKIdentityManager;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsUtils;

/**
 * The server end of TLS-PSK: a client proves it knows the key of a username in
 * the PSK file, by a TLS 1.3 external PSK or a TLS 1.2 (EC)DHE-PSK suite. No
 * certificate is ever sent. The username that succeeded is the client's identity.
 */
final class PskTlsServer extends AbstractTlsServer implements PskTlsHandler.Peer {
    private final PskKeys keys;
    private final Runnable handshakeComplete;
    /** The username whose key the handshake is using; the identity once it completes. */
    private String username;
    /** Usernames the client offered that the file does not have, for the failure message. */
    private final List<String> unknown = new ArrayList<>();

    PskTlsServer(PskKeys keys, Runnable handshakeComplete) {
        super(PskSuites.crypto());
        this.keys = keys;
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

    /** Ours in our order: TLS 1.3 AES-GCM first, whatever a client lists first. */
    @Override
    protected boolean preferLocalCipherSuites() {
        return true;
    }

    /** TLS 1.3: the first offered identity the file knows. */
    @Override
    public TlsPSKExternal getExternalPSK(Vector identities) {
        for (Object o : identities) {
            byte[] identity = ((PskIdentity) o).getIdentity();
            String name = new String(identity, StandardCharsets.UTF_8);
            Optional<byte[]> key = keys.key(name);
            if (key.isPresent()) {
                username = name;
                return new BasicTlsPSKExternal(identity, getCrypto().createSecret(key.get()),
                        PRFAlgorithm.tls13_hkdf_sha256);
            }
            unknown.add(name);
        }
        return null;
    }

    /** TLS 1.2: the identity of the ClientKeyExchange; null makes BouncyCastle raise unknown_psk_identity. */
    @Override
    public TlsPSKIdentityManager getPSKIdentityManager() {
        return new TlsPSKIdentityManager() {
            @Override
            public byte[] getHint() {
                return null;
            }

            @Override
            public byte[] getPSK(byte[] identity) {
                String name = new String(identity, StandardCharsets.UTF_8);
                Optional<byte[]> key = keys.key(name);
                if (key.isPresent()) {
                    username = name;
                } else {
                    unknown.add(name);
                }
                return key.orElse(null);
            }
        };
    }

    /**
     * None for the TLS 1.2 PSK suites, which need no certificate. Under TLS 1.3 it
     * is asked for only when no PSK was agreed (a client that offered no known
     * username, or no PSK at all), and there is no certificate to fall back to.
     */
    @Override
    public TlsCredentials getCredentials() throws IOException {
        if (!TlsUtils.isTLSv13(context)) {
            return null;
        }
        throw new TlsFatalAlert(AlertDescription.unknown_psk_identity,
                unknown.isEmpty() ? "the client offered no pre-shared key" : null);
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
        if (!unknown.isEmpty()) {
            return " (unknown PSK username " + String.join(", ", unknown) + ")";
        }
        // A known username and still a failure: the binder or the Finished did not verify.
        return username == null ? "" : " (PSK username " + username + ": do both sides have the same key?)";
    }
}
