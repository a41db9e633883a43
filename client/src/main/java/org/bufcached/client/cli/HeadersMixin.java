package org.bufcached.client.cli;

import org.bufcached.client.ClientOptions;
import picocli.CommandLine.Option;

/**
 * Which transmission headers to ask the server for, for the subcommands that
 * connect: extended headers (64-bit lengths) by default, falling back to compact
 * ones when the server does not offer them; {@code --no-extended-headers} keeps
 * compact headers, as an older client would.
 */
final class HeadersMixin {
    @Option(names = "--extended-headers", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "negotiate NBD extended headers (64-bit lengths) if the server offers them; "
                    + "--no-extended-headers keeps compact headers (default: ${DEFAULT-VALUE})")
    boolean extendedHeaders = true;

    ClientOptions options() {
        return ClientOptions.DEFAULT.withExtendedHeaders(extendedHeaders);
    }
}
