package org.bufcached.daemon.export;

import java.net.InetAddress;
import java.nio.file.Path;
import org.bufcached.config.BlockSizes;
import org.bufcached.daemon.bitmap.ExportBitmaps;
import org.bufcached.config.ExportConfig;
import org.bufcached.config.FlushClass;
import org.bufcached.protocol.Nbd;

/**
 * One named export: its configuration and the {@link BlockStore} that serves it,
 * with the properties that the handshake announces.
 */
public final class Export {
    private final ExportConfig config;
    private final BlockStore store;

    public Export(ExportConfig config, BlockStore store) {
        this.config = config;
        this.store = store;
    }

    public ExportConfig config() {
        return config;
    }

    public String name() {
        return config.name();
    }

    public String description() {
        return config.description().orElse("");
    }

    public Path path() {
        return config.path();
    }

    public boolean readOnly() {
        return config.readonly();
    }

    public FlushClass flushClass() {
        return config.flushClass();
    }

    public BlockSizes blockSizes() {
        return config.blockSizes();
    }

    public BlockStore store() {
        return store;
    }

    /** The dirty bitmaps of the export's file; an empty, read-only set for a store that tracks none. */
    public ExportBitmaps bitmaps() {
        return store instanceof TrackedBlockStore ? ((TrackedBlockStore) store).bitmaps()
                : ExportBitmaps.none(name(), size());
    }

    /** Cache hits and misses, dirty bytes and write-back errors of this export's file. */
    public org.bufcached.daemon.cache.FileStats stats() {
        return store.stats();
    }

    public long size() {
        return store.size();
    }

    /** Whether a TCP client from {@code address} may see and use this export. */
    public boolean allows(InetAddress address) {
        return config.allows(address);
    }

    /**
     * The transmission flags, advertised truthfully: writes, trims and zeroes only
     * when writable; DF only with reply chunks (structured replies or extended
     * headers, {@code structuredReplies}), since it means nothing in a simple reply. Every connection shares one store, so FLUSH and FUA effects are
     * visible across connections: CAN_MULTI_CONN.
     */
    public int transmissionFlags(boolean structuredReplies) {
        int flags = Nbd.NBD_FLAG_HAS_FLAGS | Nbd.NBD_FLAG_SEND_FLUSH | Nbd.NBD_FLAG_SEND_FUA
                | Nbd.NBD_FLAG_CAN_MULTI_CONN | Nbd.NBD_FLAG_SEND_CACHE;
        if (readOnly()) {
            flags |= Nbd.NBD_FLAG_READ_ONLY;
        } else {
            flags |= Nbd.NBD_FLAG_SEND_TRIM | Nbd.NBD_FLAG_SEND_WRITE_ZEROES | Nbd.NBD_FLAG_SEND_FAST_ZERO;
        }
        if (structuredReplies) {
            flags |= Nbd.NBD_FLAG_SEND_DF;
        }
        return flags;
    }

    @Override
    public String toString() {
        return name() + " (" + path() + (readOnly() ? ", read-only" : "") + ")";
    }
}
