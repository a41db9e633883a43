package org.bufcached.daemon;

import org.bufcached.config.HostPort;
import picocli.CommandLine;

/** The command line's {@code --tcp HOST:PORT}. */
final class HostPortOption implements CommandLine.ITypeConverter<HostPort> {
    @Override
    public HostPort convert(String value) {
        try {
            return HostPort.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
