package org.bufcached.daemon.net;

import org.bufcached.daemon.export.Export;

/**
 * What the handshake settled for one connection and the transmission phase obeys:
 * the export, whether structured replies were negotiated and which metadata
 * contexts (if any) BLOCK_STATUS answers for; who the connection is, for log
 * lines; and the group of connections on the export that a reload drains when
 * the export goes away.
 */
record Session(Export export, boolean structuredReplies, MetaContexts.Selection contexts,
               ConnectionContext connection, ExportConnections exportConnections) {

    boolean blockStatusAllowed() {
        return !contexts.isEmpty();
    }
}
