package org.bufcached.protocol;

/**
 * The server's answer to NBD_OPT_EXPORT_NAME: size and transmission flags, then 124
 * zero bytes unless the client negotiated NBD_FLAG_C_NO_ZEROES.
 */
public record ExportNameReply(long size, int transmissionFlags, boolean zeroes) {
    public static final int WIRE_SIZE_NO_ZEROES = 10;
}
