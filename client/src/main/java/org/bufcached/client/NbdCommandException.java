package org.bufcached.client;

import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdError;

/** The server answered a command with an error; {@link #error()} is the NBD error number mapped back. */
public class NbdCommandException extends NbdException {
    private static final long serialVersionUID = 1L;

    private final transient NbdError error;
    private final String serverMessage;

    public NbdCommandException(int commandType, NbdError error, String serverMessage) {
        super(Nbd.commandName(commandType) + " failed: " + error.wireName() + " (" + error.description() + ")"
                + (serverMessage == null || serverMessage.isEmpty() ? "" : ": " + serverMessage));
        this.error = error;
        this.serverMessage = serverMessage;
    }

    public NbdError error() {
        return error;
    }

    /** The human-readable message of a structured error chunk, or null. */
    public String serverMessage() {
        return serverMessage;
    }
}
