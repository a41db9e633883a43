package org.bufcached.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import org.bufcached.config.ListenUnix;

/** Gives a bound Unix socket the mode and owner its configuration asks for. */
public final class UnixSocketPermissions {
    private UnixSocketPermissions() {
    }

    public static void apply(ListenUnix unix) throws IOException {
        if (unix.permissions().isPresent()) {
            Files.setPosixFilePermissions(unix.path(), unix.permissions().get());
        }
        if (unix.user().isEmpty() && unix.group().isEmpty()) {
            return;
        }
        UserPrincipalLookupService lookup = unix.path().getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(unix.path(), PosixFileAttributeView.class);
        if (unix.user().isPresent()) {
            UserPrincipal user = lookup.lookupPrincipalByName(unix.user().get());
            view.setOwner(user);
        }
        if (unix.group().isPresent()) {
            GroupPrincipal group = lookup.lookupPrincipalByGroupName(unix.group().get());
            view.setGroup(group);
        }
    }
}
