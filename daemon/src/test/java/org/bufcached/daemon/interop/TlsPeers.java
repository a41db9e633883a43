package org.bufcached.daemon.interop;

import java.nio.file.Path;

/** YAML and URIs for the TLS interoperability tests. */
final class TlsPeers {
    private TlsPeers() {
    }

    /** A {@code tls:} section with X.509 certificates. */
    static String x509(String mode, Path certificates, boolean verifyPeer, String provider) {
        return "tls:\n  mode: " + mode + "\n  certificates: \"" + certificates + "\"\n  verify-peer: " + verifyPeer
                + "\n  provider: " + provider + "\n";
    }

    /** A {@code tls:} section with a PSK file. */
    static String psk(String mode, Path keys) {
        return "tls:\n  mode: " + mode + "\n  psk-file: \"" + keys + "\"\n";
    }

    /** {@code nbds://localhost:PORT/EXPORT?tls-certificates=DIR}. */
    static String tcp(DaemonProcess d, String export, Path clientDir) {
        return "nbds://localhost:" + d.tcpPort() + "/" + export + "?tls-certificates=" + clientDir;
    }

    /** {@code nbds+unix:///EXPORT?socket=PATH&tls-certificates=DIR}. */
    static String unix(DaemonProcess d, String export, Path clientDir) {
        return "nbds+unix:///" + export + "?socket=" + d.socket() + "&tls-certificates=" + clientDir;
    }

    /** {@code nbds://USER@localhost:PORT/EXPORT?tls-psk-file=FILE}. */
    static String pskTcp(DaemonProcess d, String user, String export, Path keys) {
        return "nbds://" + user + "@localhost:" + d.tcpPort() + "/" + export + "?tls-psk-file=" + keys;
    }

    /** {@code nbds+unix://USER@/EXPORT?socket=PATH&tls-psk-file=FILE}. */
    static String pskUnix(DaemonProcess d, String user, String export, Path keys) {
        return "nbds+unix://" + user + "@/" + export + "?socket=" + d.socket() + "&tls-psk-file=" + keys;
    }
}
