package org.bufcached.client.cli;

import java.util.concurrent.Callable;
import org.bufcached.client.kernel.Ioctls;
import org.bufcached.client.kernel.LibcIoctls;
import org.bufcached.client.kernel.NbdDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code bufcache detach /dev/nbdN}: NBD_DISCONNECT and NBD_CLEAR_SOCK, as {@code nbd-client -d}. */
@Command(name = "detach", mixinStandardHelpOptions = true, description = "Detach a kernel nbd device (needs root).",
        footer = {"", "Example:", "  bufcache detach /dev/nbd0"})
final class DetachCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DEVICE", description = "the nbd device, e.g. /dev/nbd0")
    String device;

    /** The system calls; tests replace them with a recorder. */
    Ioctls sys = new LibcIoctls();

    @Override
    public Integer call() throws Exception {
        try (NbdDevice dev = NbdDevice.open(sys, device)) {
            dev.disconnect();
        }
        return 0;
    }
}
