package org.bufcached.client;

import org.bufcached.protocol.Nbd;

/** One extent of the base:allocation context: a range and its NBD_STATE_* flags. */
public record Extent(long offset, long length, int flags) {
    public boolean hole() {
        return (flags & Nbd.NBD_STATE_HOLE) != 0;
    }

    public boolean zero() {
        return (flags & Nbd.NBD_STATE_ZERO) != 0;
    }

    public long end() {
        return offset + length;
    }

    /** "data", "hole", "zero" or "hole,zero", the words of {@code nbdinfo --map} and {@code bufcache map}. */
    public String kind() {
        return hole() && zero() ? "hole,zero" : hole() ? "hole" : zero() ? "zero" : "data";
    }
}
