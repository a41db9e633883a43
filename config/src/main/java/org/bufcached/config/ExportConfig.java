package org.bufcached.config;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import javax.security.auth.x500.X500Principal;

/**
 * One file served as an NBD export.
 *
 * @param name        the NBD export name clients ask for
 * @param path        absolute, normalized path of the backing file
 * @param size        size to create the file with or extend it to; empty to use the file as it is
 * @param readonly    whether writes are refused with EPERM
 * @param description free text sent to clients with NBD_INFO_DESCRIPTION
 * @param blockSizes  advertised block size constraints
 * @param flushClass  which flusher writes this export back
 * @param allow       networks TCP clients must come from; unix-socket clients are not filtered.
 *                    The default is everything ({@code 0.0.0.0/0} and {@code ::/0}), so an
 *                    empty list admits no TCP client at all.
 * @param tls         {@code on} or {@code require}, overriding the daemon's TLS mode for this
 *                    export; empty to follow it
 * @param identities  TLS clients allowed to use the export: a certificate's subject common name,
 *                    its whole subject DN (an entry with {@code =}), or a PSK username; empty
 *                    admits every client. An export with identities requires TLS.
 * @param bitmaps     the dirty bitmaps the daemon makes sure exist (created empty when missing);
 *                    bitmaps added through the admin socket exist beside them
 */
public record ExportConfig(String name, Path path, OptionalLong size, boolean readonly, Optional<String> description,
                           BlockSizes blockSizes, FlushClass flushClass, List<Cidr> allow, Optional<TlsMode> tls,
                           List<String> identities, List<BitmapConfig> bitmaps) {
    public ExportConfig {
        allow = List.copyOf(allow);
        identities = List.copyOf(identities);
        bitmaps = List.copyOf(bitmaps);
    }

    /** An export without dirty bitmaps. */
    public ExportConfig(String name, Path path, OptionalLong size, boolean readonly, Optional<String> description,
                        BlockSizes blockSizes, FlushClass flushClass, List<Cidr> allow, Optional<TlsMode> tls,
                        List<String> identities) {
        this(name, path, size, readonly, description, blockSizes, flushClass, allow, tls, identities, List.of());
    }

    /** An export that follows the daemon's TLS mode and admits every client. */
    public ExportConfig(String name, Path path, OptionalLong size, boolean readonly, Optional<String> description,
                        BlockSizes blockSizes, FlushClass flushClass, List<Cidr> allow) {
        this(name, path, size, readonly, description, blockSizes, flushClass, allow, Optional.empty(), List.of());
    }

    /** Whether a TCP client from {@code address} may use this export. */
    public boolean allows(InetAddress address) {
        return allow.stream().anyMatch(cidr -> cidr.matches(address));
    }

    /**
     * Whether only TLS clients may use this export when the daemon runs with
     * {@code daemon}: its own {@code tls}, else the daemon's mode; an export with
     * identities always, since a plaintext client has none.
     */
    public boolean tlsOnly(TlsConfig daemon) {
        if (!daemon.enabled()) {
            return false;
        }
        return !identities.isEmpty() || tls.orElse(daemon.mode()) == TlsMode.REQUIRE;
    }

    /** What does not fit between this export's TLS settings and the daemon's, by export key. */
    public List<TlsConfig.Problem> tlsProblems(TlsConfig daemon) {
        List<TlsConfig.Problem> problems = new ArrayList<>();
        if (!daemon.enabled() && (tls.isPresent() || !identities.isEmpty())) {
            problems.add(new TlsConfig.Problem(tls.isPresent() ? "tls" : "identities",
                    "the daemon's TLS mode is off: set tls.mode to on or require"));
            return problems;
        }
        if (!identities.isEmpty() && tls.equals(Optional.of(TlsMode.ON))) {
            problems.add(new TlsConfig.Problem("tls", "an export with identities must require TLS: "
                    + "plaintext clients have no identity"));
        }
        if (!identities.isEmpty() && !daemon.psk() && !daemon.verifyPeer()) {
            problems.add(new TlsConfig.Problem("identities", "identities of X.509 clients come from their "
                    + "certificates: set tls.verify-peer to true"));
        }
        return problems;
    }

    /** Why {@code identity} cannot be an entry of {@code identities}, if it cannot. */
    public static Optional<String> identityProblem(String identity) {
        if (identity.isBlank()) {
            return Optional.of("an identity must not be empty");
        }
        if (identity.contains("=")) {
            try {
                new X500Principal(identity);
            } catch (IllegalArgumentException e) {
                return Optional.of("\"" + identity + "\" is not a distinguished name: " + e.getMessage());
            }
        }
        return Optional.empty();
    }
}
