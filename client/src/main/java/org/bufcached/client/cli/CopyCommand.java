package org.bufcached.client.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.bufcached.client.NbdUri;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bufcache copy SRC DST}: file to export, export to file, or export to export. */
@Command(name = "copy", mixinStandardHelpOptions = true,
        description = {"Copy a file or export to a file or export, skipping holes; ends with FLUSH.",
            "A file destination is created or truncated; an export destination must be at least as large as the source.",
            "On a terminal a progress line shows the rate and the time left; at the end one summary line."},
        footer = {"", "Examples:",
            "  bufcache copy disk.img nbd+unix:///disk?socket=/run/bufcached/nbd.sock --verify",
            "  bufcache copy nbd://127.0.0.1:10809/disk backup.img",
            "  bufcache copy nbd://server-a/disk nbd://server-b/disk --queue-depth 32",
            "", Help.URI_FORMS})
final class CopyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SRC", description = "NBD URI or file")
    String source;

    @Parameters(index = "1", paramLabel = "DST", description = "NBD URI or file")
    String destination;

    @Mixin
    TlsMixin tls;

    @Mixin
    HeadersMixin headers;

    @Option(names = {"--queue-depth", "--qd"}, paramLabel = "N", defaultValue = "16",
            description = "requests in flight per connection (default ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "4",
            description = "connections to an export that allows several (CAN_MULTI_CONN), as nbdcopy (default "
                    + "${DEFAULT-VALUE})")
    int connections;

    @Option(names = "--verify", description = "re-read both sides and compare them byte for byte")
    boolean verify;

    @Option(names = {"-q", "--quiet"}, description = "no progress line and no summary; errors only")
    boolean quiet;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (depth < 1 || connections < 1) {
            throw new UsageException("--queue-depth and --connections must be at least 1");
        }
        if (!NbdUri.isUri(source) && !NbdUri.isUri(destination)) {
            throw new UsageException("one of SRC and DST must be an NBD URI (" + NbdUri.FORMS + ")");
        }
        long start = System.nanoTime();
        try (Endpoint src = open(source, -1, connections); Endpoint dst = open(destination, src.size(), connections)) {
            if (dst.size() < src.size()) {
                throw new UsageException("destination (" + dst.size() + " bytes) is smaller than the source ("
                        + src.size() + " bytes)");
            }
            Copier copier = new Copier(src, dst, depth * Math.max(src.connections(), dst.connections()));
            try (Progress progress = Progress.start("copy", src.size(), quiet)) {
                copier.copy(progress).get();
            }
            double copySeconds = (System.nanoTime() - start) / 1e9;
            if (verify) {
                try (Progress progress = Progress.start("verify", src.size(), quiet)) {
                    copier.verify(progress).get();
                }
            }
            if (!quiet) {
                summary(spec.commandLine().getOut(), copier, src.size(), copySeconds,
                        (System.nanoTime() - start) / 1e9);
            }
        }
        return 0;
    }

    /** {@code copied 4 GiB (2 GiB data, 2 GiB zero) in 8.1 s, 505.3 MiB/s; verified in 3.2 s}. */
    private void summary(PrintWriter out, Copier copier, long size, double copySeconds, double totalSeconds) {
        out.printf(Locale.ROOT, "copied %s (%s data, %s zero) in %.1f s, %s/s%s%n", Sizes.format(size),
                Sizes.format(copier.dataBytes()), Sizes.format(copier.zeroBytes()), copySeconds,
                Sizes.format(size / Math.max(copySeconds, 1e-9)),
                verify ? String.format(Locale.ROOT, "; verified in %.1f s", totalSeconds - copySeconds) : "");
    }

    /** Opens {@code spec}; {@code size} >= 0 marks a destination (a file is created at that size). */
    private Endpoint open(String spec, long size, int connections) throws Exception {
        if (NbdUri.isUri(spec)) {
            return ExportEndpoint.open(tls.apply(parse(spec)), headers.options(), connections);
        }
        return size < 0 ? FileEndpoint.source(Path.of(spec)) : FileEndpoint.destination(Path.of(spec), size);
    }

    private static NbdUri parse(String spec) {
        try {
            return NbdUri.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
