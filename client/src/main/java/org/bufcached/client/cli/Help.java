package org.bufcached.client.cli;

/** Help text every subcommand shares: the URI forms, for the footer of each {@code --help}. */
final class Help {
    /** Picocli footer lines (%n for new lines) explaining the NBD URI forms. */
    static final String URI_FORMS = "NBD URIs:%n"
            + "  nbd://HOST[:PORT]/EXPORT          over TCP; PORT defaults to 10809%n"
            + "  nbd+unix:///EXPORT?socket=PATH    over a Unix socket; bufcached's is /run/bufcached/nbd.sock%n"
            + "  nbds://..., nbds+unix://...       the same over TLS (STARTTLS); ?tls-certificates=DIR,%n"
            + "                                    ?tls-psk-file=FILE, ?tls-verify-peer=false, USER@ for PSK%n"
            + "  An empty EXPORT (nbd://HOST/) is the server's default export. Names are percent-encoded.";

    private Help() {
    }
}
