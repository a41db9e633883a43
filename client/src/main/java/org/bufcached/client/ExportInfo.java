package org.bufcached.client;

import java.util.List;
import java.util.Map;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.OptionReplies.BlockSize;
import org.bufcached.protocol.TransmissionMode;

/**
 * What the handshake learned about an export. {@code blockSize} is null when the
 * server did not advertise constraints; the spec's defaults then apply (minimum 1,
 * preferred 4096, maximum payload 32 MiB). {@code structuredReplies}: replies come
 * in chunks (structured replies or extended headers were negotiated);
 * {@code extendedHeaders}: requests and replies have 32-byte headers and 64-bit
 * lengths. {@code metaContexts} maps the contexts the server selected (or listed)
 * to their ids.
 */
public record ExportInfo(String name, long size, int transmissionFlags, BlockSize blockSize, String description,
                         boolean structuredReplies, boolean extendedHeaders, Map<String, Integer> metaContexts) {
    /** The spec's default maximum payload, and the client's own cap on one request. */
    public static final int DEFAULT_MAX_PAYLOAD = 1 << 25;

    /** The headers in use: simple, structured or extended. */
    public TransmissionMode mode() {
        return TransmissionMode.of(structuredReplies, extendedHeaders);
    }

    public boolean has(int transmissionFlag) {
        return (transmissionFlags & transmissionFlag) != 0;
    }

    public boolean readOnly() {
        return has(Nbd.NBD_FLAG_READ_ONLY);
    }

    public int minimumBlock() {
        return blockSize == null ? 1 : Math.max(1, blockSize.minimum());
    }

    public int preferredBlock() {
        return blockSize == null ? 4096 : blockSize.preferred();
    }

    /** The largest READ or WRITE payload to send: the advertised maximum, capped at 32 MiB, aligned down. */
    public int maximumPayload() {
        long max = blockSize == null ? DEFAULT_MAX_PAYLOAD : Math.min(blockSize.maximum(), DEFAULT_MAX_PAYLOAD);
        return (int) (max - max % minimumBlock());
    }

    /** Spec names of the transmission flags that are set. */
    public List<String> flagNames() {
        String[] names = {"HAS_FLAGS", "READ_ONLY", "SEND_FLUSH", "SEND_FUA", "ROTATIONAL", "SEND_TRIM",
            "SEND_WRITE_ZEROES", "SEND_DF", "CAN_MULTI_CONN", "SEND_RESIZE", "SEND_CACHE", "SEND_FAST_ZERO",
            "BLOCK_STATUS_PAYLOAD"};
        List<String> set = new java.util.ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            if ((transmissionFlags & (1 << i)) != 0) {
                set.add("NBD_FLAG_" + names[i]);
            }
        }
        return set;
    }
}
