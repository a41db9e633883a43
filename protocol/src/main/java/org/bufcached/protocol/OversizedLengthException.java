package org.bufcached.protocol;

/**
 * The peer announced so much data (option data, a WRITE payload) that even
 * skipping it would be a denial of service: the connection is closed at once
 * instead of being read to the end of the announced length.
 */
public final class OversizedLengthException extends NbdProtocolException {
    private static final long serialVersionUID = 1L;

    public OversizedLengthException(String what, long announced, long bound) {
        super(what + " of " + Long.toUnsignedString(announced) + " bytes is over the hard limit of " + bound
                + " bytes");
    }
}
