package org.bufcached.protocol;

/**
 * Which message headers a connection's transmission phase uses, as the handshake
 * settled it (the spec's "simple, structured, or extended"): compact requests with
 * simple replies; compact requests with structured reply chunks
 * (NBD_OPT_STRUCTURED_REPLY); or extended 32-byte requests and reply chunks
 * (NBD_OPT_EXTENDED_HEADERS, which takes precedence over structured replies).
 */
public enum TransmissionMode {
    /** 28-byte requests, 16-byte simple replies only. */
    SIMPLE,
    /** 28-byte requests, 20-byte structured reply chunks (and simple replies without data). */
    STRUCTURED,
    /** 32-byte requests with 64-bit lengths, 32-byte reply chunks only. */
    EXTENDED;

    /** Replies come in chunks (structured or extended): READ may be split, BLOCK_STATUS is possible. */
    public boolean chunks() {
        return this != SIMPLE;
    }

    public boolean extendedHeaders() {
        return this == EXTENDED;
    }

    /** The mode after negotiating structured replies ({@code structured}) and extended headers ({@code extended}). */
    public static TransmissionMode of(boolean structured, boolean extended) {
        return extended ? EXTENDED : structured ? STRUCTURED : SIMPLE;
    }
}
