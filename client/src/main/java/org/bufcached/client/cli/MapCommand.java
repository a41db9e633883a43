package org.bufcached.client.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.bufcached.client.Extent;
import org.bufcached.client.NbdClient;
import org.bufcached.client.NbdUri;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bufcache map URI}: the base:allocation map as offset, length, type (data, hole, zero, hole,zero). */
@Command(name = "map", mixinStandardHelpOptions = true,
        description = {"Print the allocation map from block status (base:allocation): offset, length and type,",
            "where the type is data, hole, zero or hole,zero as nbdinfo --map says it."},
        footer = {"", "Examples:",
            "  bufcache map nbd://127.0.0.1:10809/disk",
            "  bufcache map --offset 1G --length 64M --json nbd+unix:///disk?socket=/run/bufcached/nbd.sock",
            "", Help.URI_FORMS})
final class MapCommand implements Callable<Integer> {
    @Parameters(paramLabel = "URI", arity = "0..1", defaultValue = NbdUri.DEFAULT,
            description = "NBD URI of the export (default ${DEFAULT-VALUE})")
    NbdUri uri;

    @Mixin
    TlsMixin tls;

    @Mixin
    HeadersMixin headers;

    @Option(names = "--offset", description = "start of the range (default 0)", defaultValue = "0")
    long offset;

    @Option(names = "--length", description = "length of the range (default: to the end)")
    Long length;

    @Option(names = "--json", description = "print a JSON array of {offset, length, type, flags}")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        uri = tls.apply(uri);
        try (NbdClient client = NbdClient.connect(uri, headers.options()).get()) {
            if (!client.hasBlockStatus()) {
                throw new org.bufcached.client.NbdException("the server does not offer base:allocation block status");
            }
            if (offset > client.size()) {
                throw new UsageException("--offset " + offset + " is beyond the end of the export (" + client.size() + ")");
            }
            long len = length == null ? client.size() - offset : Math.min(length, client.size() - offset);
            List<Extent> extents = len == 0 ? List.of() : client.extents(offset, len).get();
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(Json.write(extents.stream().map(e -> java.util.Map.of("offset", e.offset(), "length", e.length(),
                        "type", e.kind(), "flags", e.flags())).map(java.util.TreeMap::new).toList()));
            } else {
                out.printf("%15s %15s  %s%n", "offset", "length", "type");
                for (Extent e : extents) {
                    out.printf("%15d %15d  %s%n", e.offset(), e.length(), e.kind());
                }
            }
        }
        return 0;
    }
}
