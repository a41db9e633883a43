package org.bufcached.daemon.net;

import org.bufcached.daemon.export.Export;
import org.bufcached.protocol.TransmissionMode;

/**
 * What the handshake settled for one connection and the transmission phase obeys:
 * the export, the headers negotiated (simple replies, structured replies or
 * extended headers) and which metadata contexts (if any) BLOCK_STATUS answers
 * for; who the connection is, for log lines; and the group of connections on
 * the export that a reload drains when the export goes away.
 */
record Session(Export export, TransmissionMode mode, MetaContexts.Selection contexts,
               ConnectionContext connection, ExportConnections exportConnections) {

    boolean blockStatusAllowed() {
        return !contexts.isEmpty();
    }

    /** Replies come in chunks: structured replies or extended headers were negotiated. */
    boolean structuredReplies() {
        return mode.chunks();
    }

    boolean extendedHeaders() {
        return mode.extendedHeaders();
    }
}
