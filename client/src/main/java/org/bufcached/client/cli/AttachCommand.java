package org.bufcached.client.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.bufcached.client.BlockingHandshake;
import org.bufcached.client.ClientOptions;
import org.bufcached.client.ExportInfo;
import org.bufcached.client.NbdUri;
import org.bufcached.client.kernel.FdSocket;
import org.bufcached.client.kernel.Ioctls;
import org.bufcached.client.kernel.LibcIoctls;
import org.bufcached.client.kernel.NbdDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bufcache attach URI /dev/nbdN}: handshake in user space (simple replies,
 * as the kernel driver speaks), then hand the socket to the driver. Stays in the
 * foreground while the device is attached; {@code bufcache detach} ends it.
 */
@Command(name = "attach", mixinStandardHelpOptions = true,
        description = {"Attach an export to a kernel nbd device (needs root and the nbd module).",
            "Runs until the device is detached."},
        footer = {"", "Examples:",
            "  modprobe nbd && bufcache attach nbd+unix:///disk?socket=/run/bufcached/nbd.sock /dev/nbd0 &",
            "  mkfs.ext4 /dev/nbd0 && mount /dev/nbd0 /mnt",
            "  umount /mnt && bufcache detach /dev/nbd0",
            "", Help.URI_FORMS})
final class AttachCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "URI", description = "NBD URI of the export")
    NbdUri uri;

    @Mixin
    TlsMixin tls;

    @Parameters(index = "1", paramLabel = "DEVICE", description = "the nbd device, e.g. /dev/nbd0")
    String device;

    @Option(names = "--timeout", defaultValue = "0", description = "request timeout in seconds for the driver (0: none)")
    int timeout;

    /** The system calls; tests replace them with a recorder. */
    Ioctls sys = new LibcIoctls();

    @Override
    public Integer call() throws Exception {
        uri = tls.apply(uri);
        if (uri.isTls()) {
            throw new UsageException("the kernel's nbd driver cannot speak TLS: it takes over the socket after the "
                    + "handshake; use nbdfuse or qemu-nbd as a TLS client instead");
        }
        if (timeout < 0) {
            throw new UsageException("--timeout must not be negative");
        }
        try (NbdDevice dev = NbdDevice.open(sys, device); FdSocket socket = FdSocket.connect(uri)) {
            ExportInfo info = BlockingHandshake.go(socket, uri.exportName(), ClientOptions.SIMPLE);
            dev.configure(info, socket.fd(), timeout);
            System.err.println("bufcache: attached " + uri + " to " + device + " (" + info.size() + " bytes)");
            AtomicReference<IOException> exit = new AtomicReference<>();
            dev.serve(exit::set).join();
            if (exit.get() != null) {
                throw exit.get();
            }
        }
        return 0;
    }
}
