package org.bufcached.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CRL;
import java.security.cert.CertPathValidator;
import java.security.cert.CertStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.X509CertSelector;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Optional;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * Trust in the certificates of one {@code ca-cert.pem}, as GnuTLS gives it to
 * nbdkit and libnbd: the peer's chain must end at one of them, and with a
 * {@code ca-crl.pem} the peer's own certificate must not be on that list.
 * Revocation is decided by the list alone: no OCSP, no download.
 */
public final class CaTrust {
    private CaTrust() {
    }

    public static TrustManagerFactory of(Path caCert, Optional<Path> crl) throws IOException {
        try {
            CertificateFactory x509 = CertificateFactory.getInstance("X.509");
            KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            anchors.load(null, null);
            int i = 0;
            for (Certificate ca : read(caCert, x509)) {
                anchors.setCertificateEntry("ca" + i++, ca);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            if (crl.isEmpty()) {
                factory.init(anchors);
                return factory;
            }
            PKIXBuilderParameters parameters = new PKIXBuilderParameters(anchors, new X509CertSelector());
            parameters.addCertStore(CertStore.getInstance("Collection",
                    new CollectionCertStoreParameters(crls(crl.get(), x509))));
            PKIXRevocationChecker revocation = (PKIXRevocationChecker) CertPathValidator.getInstance("PKIX")
                    .getRevocationChecker();
            revocation.setOptions(EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS,
                    PKIXRevocationChecker.Option.NO_FALLBACK, PKIXRevocationChecker.Option.ONLY_END_ENTITY));
            parameters.addCertPathChecker(revocation);
            parameters.setRevocationEnabled(true);
            factory.init(new CertPathTrustManagerParameters(parameters));
            return factory;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot trust " + caCert + crl.map(c -> " with " + c).orElse("") + ": "
                    + e.getMessage(), e);
        }
    }

    private static Collection<? extends Certificate> read(Path file, CertificateFactory x509)
            throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(CertificateDirectory.require(file))) {
            Collection<? extends Certificate> certificates = x509.generateCertificates(in);
            if (certificates.isEmpty()) {
                throw new IOException(file + " holds no certificate");
            }
            return certificates;
        }
    }

    private static Collection<? extends CRL> crls(Path file, CertificateFactory x509)
            throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(CertificateDirectory.require(file))) {
            return x509.generateCRLs(in);
        }
    }
}
