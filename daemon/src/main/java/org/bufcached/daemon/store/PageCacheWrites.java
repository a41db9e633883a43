package org.bufcached.daemon.store;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * How a buffered write to one file behaves in the kernel: whether copying it into
 * the page cache can wait for the disk, and the alignment at which it never reads.
 *
 * <p>On ext2/3/4, XFS and tmpfs a buffered write waits for the disk only to read
 * the rest of a block it covers in part, or, on a device that asks for stable
 * pages (data integrity, some RAID levels), for the write-back of the page it
 * changes. Writes of whole blocks to such a file on a device without stable pages
 * wait for memory and the inode's lock, nothing else. Anything else (btrfs keeps
 * pages stable for its checksums, network and FUSE filesystems wait for their
 * server, overlays for what lies under them) is taken as able to wait.
 *
 * @param mayWaitForDisk whether a buffered write of whole blocks can still wait for I/O
 * @param alignment      the filesystem's block size, at least a page: a write aligned to it reads nothing
 * @param reason         what the decision rests on, for the log
 */
public record PageCacheWrites(boolean mayWaitForDisk, int alignment, String reason) {
    /** Filesystems whose buffered writes of whole blocks wait for no I/O unless the device wants stable pages. */
    static final Set<String> NO_WAIT_FILESYSTEMS = Set.of("ext2", "ext3", "ext4", "xfs", "tmpfs");
    private static final Path SYS_DEV_BLOCK = Path.of("/sys/dev/block");

    /** What the file at {@code path} does; able to wait whenever something cannot be found out. */
    public static PageCacheWrites of(Path path) {
        String type;
        int alignment = Posix.pageSize();
        long device;
        try {
            FileStore store = Files.getFileStore(path);
            type = store.type();
            alignment = (int) Math.max(alignment, store.getBlockSize());
            device = ((Number) Files.getAttribute(path, "unix:dev")).longValue();
        } catch (IOException | RuntimeException e) {
            return new PageCacheWrites(true, alignment, "filesystem unknown (" + e + ")");
        }
        if (!NO_WAIT_FILESYSTEMS.contains(type)) {
            return new PageCacheWrites(true, alignment, type);
        }
        if (type.equals("tmpfs")) {
            return new PageCacheWrites(false, alignment, type);
        }
        String dev = major(device) + ":" + minor(device);
        Boolean stable = stableWrites(SYS_DEV_BLOCK.resolve(dev));
        if (stable == null) {
            return new PageCacheWrites(true, alignment, type + " on " + dev + ", whose queue is not found");
        }
        return new PageCacheWrites(stable, alignment, type + " on " + dev + (stable ? ", stable pages" : ""));
    }

    /**
     * The device's queue/stable_writes (a partition's is its disk's), or null when
     * the device has no queue in sysfs.
     */
    static Boolean stableWrites(Path sysDevice) {
        for (Path queue : new Path[] {sysDevice.resolve("queue"), sysDevice.resolve("../queue")}) {
            try {
                return !Files.readString(queue.resolve("stable_writes")).trim().equals("0");
            } catch (IOException e) {
                // not this one: a partition has no queue of its own
            }
        }
        return null;
    }

    /** Linux's dev_t encoding (glibc's gnu_dev_major / gnu_dev_minor). */
    static long major(long dev) {
        return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    }

    static long minor(long dev) {
        return (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    }
}
