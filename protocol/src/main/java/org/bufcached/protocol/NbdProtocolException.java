package org.bufcached.protocol;

import io.netty.handler.codec.DecoderException;

/**
 * The peer broke the protocol in a way that leaves no choice but a hard
 * disconnect: wrong magic, a truncated or inconsistent message, unknown flags.
 */
public class NbdProtocolException extends DecoderException {
    private static final long serialVersionUID = 1L;

    public NbdProtocolException(String message) {
        super(message);
    }
}
