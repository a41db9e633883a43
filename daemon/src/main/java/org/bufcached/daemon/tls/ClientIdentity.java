package org.bufcached.daemon.tls;

import java.util.List;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * Who a TLS client proved to be: the subject of the certificate it presented,
 * or the PSK username whose key it knew; neither for an X.509 client that sent
 * no certificate. Matched against an export's {@code identities}.
 */
public record ClientIdentity(Optional<X500Principal> subject, Optional<String> pskUsername) {
    /** A TLS client that proved nothing: X.509 without a client certificate. */
    public static final ClientIdentity ANONYMOUS = new ClientIdentity(Optional.empty(), Optional.empty());

    public static ClientIdentity certificate(X500Principal subject) {
        return new ClientIdentity(Optional.of(subject), Optional.empty());
    }

    public static ClientIdentity psk(String username) {
        return new ClientIdentity(Optional.empty(), Optional.of(username));
    }

    /**
     * Whether one of {@code allowed} names this client: an entry with {@code =}
     * is a distinguished name, equal to the subject whatever its spacing and
     * case of attribute names; any other entry is a common name of the subject
     * or a PSK username, compared exactly.
     */
    public boolean matches(List<String> allowed) {
        for (String entry : allowed) {
            if (entry.contains("=")) {
                if (subject.isPresent() && subject.get().equals(new X500Principal(entry))) {
                    return true;
                }
            } else if (pskUsername.filter(entry::equals).isPresent() || commonNames().contains(entry)) {
                return true;
            }
        }
        return false;
    }

    /** The CN attributes of the subject; usually one. */
    public List<String> commonNames() {
        if (subject.isEmpty()) {
            return List.of();
        }
        try {
            return new LdapName(subject.get().getName(X500Principal.RFC2253)).getRdns().stream()
                    .filter(rdn -> rdn.getType().equalsIgnoreCase("CN"))
                    .map(Rdn::getValue).map(String::valueOf).toList();
        } catch (InvalidNameException e) {
            return List.of(); // the JDK parsed it from a certificate; RFC 2253 text always parses back
        }
    }

    /** As logs show it: the subject DN, {@code psk:NAME}, or {@code none}. */
    @Override
    public String toString() {
        return subject.map(s -> s.getName(X500Principal.RFC2253))
                .or(() -> pskUsername.map(name -> "psk:" + name))
                .orElse("none");
    }
}
