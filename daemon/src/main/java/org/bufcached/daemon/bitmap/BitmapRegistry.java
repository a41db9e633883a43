package org.bufcached.daemon.bitmap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bufcached.config.BitmapConfig;

/**
 * The open bitmap sets of the daemon, one per backing file. A reload that
 * replaces an export opens its replacement while the old one drains: both then
 * share one set, so a bitmap added to either is the other's, and only the last
 * to close marks the files closed cleanly. A replacement of another size (the
 * file grew) gets a set of its own and the old one stops writing headers.
 * Every method holds this object's lock, which guards {@link #open} and the counts.
 */
public final class BitmapRegistry {
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    private final UUID boot;
    private final Map<Path, ExportBitmaps> open = new HashMap<>();
    private final Map<ExportBitmaps, Integer> users = new HashMap<>();

    public BitmapRegistry() {
        this.boot = currentBoot();
    }

    /** The kernel's boot id: tells a crash of the host from a crash of the daemon. */
    private static UUID currentBoot() {
        try {
            return UUID.fromString(Files.readString(BOOT_ID).strip());
        } catch (IOException | IllegalArgumentException e) {
            // Without it every unclean stop counts as a crash of the host: more dirty, never less.
            return UUID.randomUUID();
        }
    }

    /** The bitmaps of {@code dataFile}, opened (and the configured ones created) if no export holds them. */
    public synchronized ExportBitmaps acquire(String export, Path dataFile, long exportSize,
                                              List<BitmapConfig> configured) throws IOException {
        Path key = dataFile.toAbsolutePath().normalize();
        ExportBitmaps current = open.get(key);
        if (current != null && current.exportSize() == exportSize) {
            current.ensure(configured);
            users.merge(current, 1, Integer::sum);
            return current;
        }
        ExportBitmaps opened = ExportBitmaps.open(export, key, exportSize, configured, boot);
        if (current != null) {
            current.supersede();
        }
        open.put(key, opened);
        users.put(opened, 1);
        return opened;
    }

    /** The export is closed: the last user of a set closes its bitmaps. Not on an event loop. */
    public synchronized void release(ExportBitmaps bitmaps) {
        if (bitmaps.readOnly()) {
            return;
        }
        int left = users.merge(bitmaps, -1, Integer::sum);
        if (left > 0) {
            return;
        }
        users.remove(bitmaps);
        open.values().remove(bitmaps);
        bitmaps.close();
    }
}
