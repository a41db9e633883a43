package org.bufcached.config;

import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A unix-domain socket to listen on. Mode and owner are optional: when absent
 * the daemon leaves the socket as its umask and user create it, which is what
 * a systemd-managed socket wants.
 *
 * @param path  absolute socket path
 * @param mode  permission bits such as {@code 0660}
 * @param user  owning user name or numeric id
 * @param group owning group name or numeric id
 */
public record ListenUnix(Path path, OptionalInt mode, Optional<String> user, Optional<String> group) {

    /** YAML-like, for reload reports: {@code /run/nbd.sock mode=0660 owner=nbd:disk}. */
    @Override
    public String toString() {
        return path + (mode.isPresent() ? String.format(" mode=%04o", mode.getAsInt()) : "")
                + (user.isPresent() || group.isPresent()
                        ? " owner=" + user.orElse("") + group.map(name -> ":" + name).orElse("") : "");
    }

    /** The mode as the permission set {@code Files.setPosixFilePermissions} takes; setuid and sticky bits are not representable and are ignored. */
    public Optional<Set<PosixFilePermission>> permissions() {
        if (mode.isEmpty()) {
            return Optional.empty();
        }
        Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] byBit = PosixFilePermission.values(); // OWNER_READ (0400) ... OTHERS_EXECUTE (0001)
        for (int i = 0; i < byBit.length; i++) {
            if ((mode.getAsInt() & (1 << (byBit.length - 1 - i))) != 0) {
                permissions.add(byBit[i]);
            }
        }
        return Optional.of(permissions);
    }
}
