package org.bufcached.daemon.export;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.bufcached.config.ExportConfig;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.PosixException;

/**
 * Says why an export could not be opened in an operator's words, naming the
 * export and what to do: {@code export 'disk': /srv/disk.img does not exist
 * (add size=... to create it)} rather than {@code open(...): ENOENT}. Used at
 * start-up and when a reload brings a new export.
 */
public final class ExportErrors {
    private ExportErrors() {
    }

    public static String explain(ExportConfig config, Throwable cause) {
        return "export '" + config.name() + "': " + reason(config, cause);
    }

    private static String reason(ExportConfig config, Throwable cause) {
        Path path = config.path();
        if (cause instanceof PosixException) {
            return posix(config, ((PosixException) cause).errno());
        }
        if (cause instanceof NoSuchFileException || cause instanceof AccessDeniedException) {
            // Thrown while creating the file's directory for size=.
            return cause instanceof AccessDeniedException
                    ? "cannot create " + ((FileSystemException) cause).getFile() + ": permission denied" + systemdHint()
                    : ((FileSystemException) cause).getFile() + " does not exist";
        }
        if (cause instanceof FileSystemException) {
            FileSystemException f = (FileSystemException) cause;
            return f.getFile() + ": " + (f.getReason() == null ? f.getClass().getSimpleName() : f.getReason());
        }
        if (Files.isRegularFile(path) && fileSize(path) == 0) {
            return path + " is empty (add size=... to give it a size)";
        }
        return String.valueOf(cause.getMessage());
    }

    private static String posix(ExportConfig config, int errno) {
        Path path = config.path();
        boolean sized = config.size().isPresent();
        switch (errno) {
            case Errno.ENOENT:
                return sized ? "cannot create " + path + ": its directory does not exist"
                        : path + " does not exist (add size=... to create it)";
            case Errno.EACCES:
            case Errno.EPERM:
                return "permission denied opening " + path + (config.readonly() ? " for reading" : " for reading and writing")
                        + " (check its owner and mode" + (config.readonly() ? "" : ", or add readonly") + ")" + systemdHint();
            case Errno.EROFS:
                return path + " is on a read-only file system (add readonly to serve it read-only)" + systemdHint();
            case Errno.EISDIR:
                return path + " is a directory (path must name a file)";
            case Errno.ETXTBSY:
                return path + " is busy (a running program or swap file)";
            case Errno.ENOSPC:
            case Errno.EDQUOT:
            case Errno.EFBIG:
                return "cannot extend " + path + " to size=" + config.size().orElse(0) + ": "
                        + Errno.name(errno) + " (free space, or give a smaller size)";
            default:
                return "cannot open " + path + ": " + Errno.name(errno);
        }
    }

    /** Under systemd the file must also be inside the unit's ReadWritePaths=. */
    private static String systemdHint() {
        return System.getenv("INVOCATION_ID") == null ? ""
                : "; under systemd, the file must be under /var/lib/bufcached or a directory added with "
                + "'systemctl edit bufcached' as ReadWritePaths=";
    }

    private static long fileSize(Path path) {
        try {
            return Files.size(path);
        } catch (java.io.IOException e) {
            return -1;
        }
    }
}
