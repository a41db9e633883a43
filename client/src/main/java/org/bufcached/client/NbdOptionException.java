package org.bufcached.client;

import org.bufcached.protocol.Nbd;

/** The server refused an option of the handshake with an NBD_REP_ERR_* reply. */
public class NbdOptionException extends NbdException {
    private static final long serialVersionUID = 1L;

    private final int option;
    private final int replyType;

    public NbdOptionException(int option, int replyType, String serverMessage) {
        super(Nbd.optionName(option) + " refused: " + Nbd.replyTypeName(replyType)
                + (serverMessage == null || serverMessage.isEmpty() ? "" : ": " + serverMessage));
        this.option = option;
        this.replyType = replyType;
    }

    public int option() {
        return option;
    }

    public int replyType() {
        return replyType;
    }
}
