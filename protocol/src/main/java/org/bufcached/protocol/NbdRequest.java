package org.bufcached.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.Recycler;

/**
 * A transmission-phase request. Instances are pooled: the decoder takes one with
 * {@link #newInstance}, and whoever finishes with it calls {@link #recycle()}, which
 * also releases the write payload if it is still held.
 *
 * <p>A request whose payload the decoder does not accept (a WRITE over the maximum
 * payload, a payload on a command that takes none) arrives with
 * {@link #payloadDiscarded()} true and no payload: the bytes were skipped on the
 * wire so that the connection stays in step, and the request is to be failed.
 */
public final class NbdRequest {
    private static final Recycler<NbdRequest> RECYCLER = new Recycler<>() {
        @Override
        protected NbdRequest newObject(Handle<NbdRequest> handle) {
            return new NbdRequest(handle);
        }
    };

    private final Recycler.Handle<NbdRequest> handle;
    private int flags;
    private int type;
    private long cookie;
    private long offset;
    private long length;
    private ByteBuf payload;
    private boolean payloadDiscarded;

    private NbdRequest(Recycler.Handle<NbdRequest> handle) {
        this.handle = handle;
    }

    /**
     * Takes a pooled request. {@code length} is the length field: unsigned 32 bits
     * in compact headers, 64 in extended ones; {@code payload}, if not null, is
     * owned by the request from now on.
     */
    public static NbdRequest newInstance(int flags, int type, long cookie, long offset, long length, ByteBuf payload) {
        NbdRequest r = RECYCLER.get();
        r.flags = flags;
        r.type = type;
        r.cookie = cookie;
        r.offset = offset;
        r.length = length;
        r.payload = payload;
        r.payloadDiscarded = false;
        return r;
    }

    /** Marks that the payload was skipped on the wire: too large, or on a command that takes none. */
    public NbdRequest markPayloadDiscarded() {
        payloadDiscarded = true;
        return this;
    }

    public int flags() {
        return flags;
    }

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    public int type() {
        return type;
    }

    public long cookie() {
        return cookie;
    }

    /** The offset as sent: an unsigned 64-bit value, negative here when above 2^63. */
    public long offset() {
        return offset;
    }

    /**
     * The length as sent: the payload's for a request that carries one, else the
     * effect length. Unsigned; with extended headers negative here when above 2^63.
     */
    public long length() {
        return length;
    }

    /** The payload (a direct buffer of exactly {@link #length()} bytes, its own), or null. */
    public ByteBuf payload() {
        return payload;
    }

    public boolean payloadDiscarded() {
        return payloadDiscarded;
    }

    /** Hands the payload over to the caller, who becomes responsible for releasing it. */
    public ByteBuf takePayload() {
        ByteBuf p = payload;
        payload = null;
        return p;
    }

    /** Releases what the request still holds and returns it to the pool. */
    public void recycle() {
        if (payload != null) {
            payload.release();
            payload = null;
        }
        handle.recycle(this);
    }

    @Override
    public String toString() {
        return Nbd.commandName(type) + "(cookie=" + Long.toHexString(cookie) + ", offset=" + Long.toUnsignedString(offset)
                + ", length=" + Long.toUnsignedString(length) + ", flags=0x" + Integer.toHexString(flags) + ")";
    }
}
