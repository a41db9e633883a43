package org.bufcached.client.sys;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bufcached.client.Extent;
import org.bufcached.protocol.Nbd;

/** The allocation map of a local file from SEEK_DATA/SEEK_HOLE, as {@link Extent}s like block status gives. */
public final class Holes {
    private Holes() {
    }

    /** Data and hole extents of {@code file} over {@code [0, size)}; all data where the file system cannot tell. */
    public static List<Extent> map(Path file, long size) throws IOException {
        Libc c = Libc.Holder.get();
        int fd = c.open(file.toString(), Libc.O_RDONLY);
        if (fd < 0) {
            throw new IOException("cannot open " + file + ": " + c.strerror(Libc.Holder.errno()));
        }
        try {
            List<Extent> extents = new ArrayList<>();
            long pos = 0;
            while (pos < size) {
                long data = c.lseek(fd, pos, Libc.SEEK_DATA);
                if (data < 0) {
                    if (Libc.Holder.errno() != Libc.ENXIO) {
                        return List.of(new Extent(0, size, 0)); // SEEK_DATA unsupported: treat as all data
                    }
                    data = size;
                }
                data = Math.min(data, size);
                if (data > pos) {
                    extents.add(new Extent(pos, data - pos, Nbd.NBD_STATE_HOLE | Nbd.NBD_STATE_ZERO));
                }
                if (data >= size) {
                    break;
                }
                long hole = Math.min(c.lseek(fd, data, Libc.SEEK_HOLE), size);
                extents.add(new Extent(data, hole - data, 0));
                pos = hole;
            }
            return extents;
        } finally {
            c.close(fd);
        }
    }
}
