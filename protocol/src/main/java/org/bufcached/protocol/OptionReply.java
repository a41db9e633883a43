package org.bufcached.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/** A fixed-newstyle reply to an option: the option, a reply type and its data. */
public final class OptionReply extends DefaultByteBufHolder {
    private final int option;
    private final int type;

    public OptionReply(int option, int type, ByteBuf data) {
        super(data);
        this.option = option;
        this.type = type;
    }

    public int option() {
        return option;
    }

    public int type() {
        return type;
    }

    public boolean isError() {
        return (type & Nbd.NBD_REP_FLAG_ERROR) != 0;
    }

    @Override
    public String toString() {
        return Nbd.replyTypeName(type) + " to " + Nbd.optionName(option) + " (" + content().readableBytes() + " bytes)";
    }
}
