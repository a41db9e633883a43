package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.bufcached.client.NbdClient;
import org.bufcached.client.NbdUri;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code bufcache write URI --offset [-i FILE]}: raw bytes from a file or stdin, then FLUSH. */
@Command(name = "write", mixinStandardHelpOptions = true,
        description = "Write a file or stdin to an export at an offset, then FLUSH.",
        footer = {"", "Examples:",
            "  bufcache write nbd://127.0.0.1:10809/disk --offset 0 -i boot.img",
            "  printf 'hello' | bufcache write nbd+unix:///disk?socket=/run/bufcached/nbd.sock --offset 4096 --fua",
            "", Help.URI_FORMS})
final class WriteCommand implements Callable<Integer> {
    private static final int STEP = 4 << 20;

    @Parameters(paramLabel = "URI", description = "NBD URI of the export")
    NbdUri uri;

    @Mixin
    TlsMixin tls;

    @Mixin
    HeadersMixin headers;

    @Option(names = "--offset", required = true, description = "where to start")
    long offset;

    @Option(names = {"-i", "--input"}, description = "input file (default: stdin)")
    Path input;

    @Option(names = "--fua", description = "force unit access: each write durable before it is answered")
    boolean fua;

    @Override
    public Integer call() throws Exception {
        uri = tls.apply(uri);
        try (NbdClient client = NbdClient.connect(uri, headers.options()).get();
             InputStream in = input == null ? System.in : Files.newInputStream(input)) {
            int align = client.info().minimumBlock();
            if (offset % align != 0) {
                throw new UsageException("--offset " + offset + " is not a multiple of the export's minimum block size " + align);
            }
            long at = offset;
            byte[] chunk = new byte[STEP];
            int n;
            while ((n = in.readNBytes(chunk, 0, chunk.length)) > 0) {
                if (at + n > client.size()) {
                    throw new UsageException("input does not fit: the export ends at " + client.size());
                }
                ByteBuf data = Unpooled.copiedBuffer(chunk, 0, n);
                client.write(at, data, fua).get();
                at += n;
            }
            if (client.info().has(org.bufcached.protocol.Nbd.NBD_FLAG_SEND_FLUSH)) {
                client.flush().get();
            }
        }
        return 0;
    }
}
