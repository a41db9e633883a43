package org.bufcached.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * One option of the haggling phase. When the client announced more data than the
 * receiver accepts, the data is skipped without being buffered: {@link #oversized()}
 * is true, {@link #declaredLength()} says how much was announced and the content is
 * empty.
 */
public final class OptionRequest extends DefaultByteBufHolder {
    private final int option;
    private final long declaredLength;

    public OptionRequest(int option, ByteBuf data) {
        this(option, data, data.readableBytes());
    }

    private OptionRequest(int option, ByteBuf data, long declaredLength) {
        super(data);
        this.option = option;
        this.declaredLength = declaredLength;
    }

    /** An option whose data was too large to accept; its data has been discarded. */
    public static OptionRequest oversized(int option, long declaredLength, ByteBuf empty) {
        return new OptionRequest(option, empty, declaredLength);
    }

    public int option() {
        return option;
    }

    public long declaredLength() {
        return declaredLength;
    }

    public boolean oversized() {
        return declaredLength != content().readableBytes();
    }

    @Override
    public String toString() {
        return Nbd.optionName(option) + "(" + declaredLength + " bytes)";
    }
}
