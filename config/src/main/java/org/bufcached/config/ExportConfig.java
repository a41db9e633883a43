package org.bufcached.config;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

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
 */
public record ExportConfig(String name, Path path, OptionalLong size, boolean readonly, Optional<String> description,
                           BlockSizes blockSizes, FlushClass flushClass, List<Cidr> allow) {
    public ExportConfig {
        allow = List.copyOf(allow);
    }

    /** Whether a TCP client from {@code address} may use this export. */
    public boolean allows(InetAddress address) {
        return allow.stream().anyMatch(cidr -> cidr.matches(address));
    }
}
