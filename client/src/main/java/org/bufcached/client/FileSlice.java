package org.bufcached.client;

import io.netty.channel.DefaultFileRegion;
import java.nio.channels.FileChannel;

/**
 * A range of a file that the caller keeps open, as a WRITE payload for sendfile(2).
 * The transports send only {@link DefaultFileRegion}s that way, and a released
 * one closes its channel: this one leaves it open for the next range.
 */
final class FileSlice extends DefaultFileRegion {
    FileSlice(FileChannel file, long position, long count) {
        super(file, position, count);
    }

    @Override
    protected void deallocate() {
        // The channel is the caller's, shared by every slice of the file.
    }
}
