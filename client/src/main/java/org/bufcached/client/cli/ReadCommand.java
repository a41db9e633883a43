package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.bufcached.client.NbdClient;
import org.bufcached.client.NbdUri;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code bufcache read URI --offset --length [-o FILE]}: raw bytes to a file or stdout. */
@Command(name = "read", mixinStandardHelpOptions = true, description = "Read a range of an export to a file or stdout.",
        footer = {"", "Examples:",
            "  bufcache read nbd://127.0.0.1:10809/disk --offset 0 --length 512 | xxd | head",
            "  bufcache read nbd+unix:///disk?socket=/run/bufcached/nbd.sock --offset 1M --length 4M -o part.bin",
            "", Help.URI_FORMS})
final class ReadCommand implements Callable<Integer> {
    private static final int STEP = 4 << 20;

    @Parameters(paramLabel = "URI", description = "NBD URI of the export")
    NbdUri uri;

    @Mixin
    TlsMixin tls;

    @Mixin
    HeadersMixin headers;

    @Option(names = "--offset", required = true, description = "where to start")
    long offset;

    @Option(names = "--length", required = true, description = "how many bytes")
    long length;

    @Option(names = {"-o", "--output"}, description = "output file (default: stdout)")
    Path output;

    @Override
    public Integer call() throws Exception {
        uri = tls.apply(uri);
        try (NbdClient client = NbdClient.connect(uri, headers.options()).get();
             OutputStream out = output == null ? System.out : Files.newOutputStream(output)) {
            if (offset + length > client.size()) {
                throw new UsageException("range " + offset + "+" + length + " is beyond the end of the export ("
                        + client.size() + ")");
            }
            for (long done = 0; done < length; done += STEP) {
                ByteBuf b = client.read(offset + done, (int) Math.min(STEP, length - done)).get();
                try {
                    b.readBytes(out, b.readableBytes());
                } finally {
                    b.release();
                }
            }
            out.flush();
        }
        return 0;
    }
}
