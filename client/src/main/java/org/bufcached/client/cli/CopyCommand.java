package org.bufcached.client.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.bufcached.client.NbdClient;
import org.bufcached.client.NbdUri;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code bufcache copy SRC DST}: file to export, export to file, or export to export. */
@Command(name = "copy", mixinStandardHelpOptions = true,
        description = {"Copy a file or export to a file or export, skipping holes; ends with FLUSH.",
            "A file destination is created or truncated; an export destination must be at least as large as the source."})
final class CopyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SRC", description = "NBD URI or file")
    String source;

    @Parameters(index = "1", paramLabel = "DST", description = "NBD URI or file")
    String destination;

    @Mixin
    TlsMixin tls;

    @Option(names = {"-q", "--queue-depth"}, defaultValue = "16", description = "requests in flight (default ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--verify", description = "re-read both sides and compare SHA-256 checksums")
    boolean verify;

    @Override
    public Integer call() throws Exception {
        if (depth < 1) {
            throw new UsageException("--queue-depth must be at least 1");
        }
        if (!NbdUri.isUri(source) && !NbdUri.isUri(destination)) {
            throw new UsageException("one of SRC and DST must be an NBD URI (nbd://, nbd+unix://, nbds://, nbds+unix://)");
        }
        try (Endpoint src = open(source, -1); Endpoint dst = open(destination, src.size())) {
            if (dst.size() < src.size()) {
                throw new UsageException("destination (" + dst.size() + " bytes) is smaller than the source ("
                        + src.size() + " bytes)");
            }
            Copier copier = new Copier(src, dst, depth);
            try (Progress progress = Progress.start(src.size())) {
                copier.copy(progress).get();
            }
            if (verify) {
                copier.verify().get();
            }
        }
        return 0;
    }

    /** Opens {@code spec}; {@code size} >= 0 marks a destination (a file is created at that size). */
    private Endpoint open(String spec, long size) throws Exception {
        if (NbdUri.isUri(spec)) {
            return new ExportEndpoint(NbdClient.connect(tls.apply(NbdUri.parse(spec))).get());
        }
        return size < 0 ? FileEndpoint.source(Path.of(spec)) : FileEndpoint.destination(Path.of(spec), size);
    }
}
