package org.bufcached.client.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bufcached.client.ExportInfo;
import org.bufcached.client.NbdClient;
import org.bufcached.client.NbdUri;
import org.bufcached.protocol.Nbd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bufcache info URI}: NBD_OPT_INFO and NBD_OPT_LIST_META_CONTEXT, for people or (--json) scripts. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Show an export's size, flags, block size constraints and metadata contexts,",
            "and what it can do as nbdinfo says it (can_flush, can_trim, ...)."},
        footer = {"", "Examples:",
            "  bufcache info                                  the default export of the local bufcached",
            "  bufcache info nbd://127.0.0.1:10809/disk",
            "  bufcache info --json nbd+unix:///disk?socket=/run/bufcached/nbd.sock",
            "", Help.URI_FORMS})
final class InfoCommand implements Callable<Integer> {
    @Parameters(paramLabel = "URI", arity = "0..1", defaultValue = NbdUri.DEFAULT,
            description = "NBD URI of the export (default ${DEFAULT-VALUE})")
    NbdUri uri;

    @Mixin
    TlsMixin tls;

    @Mixin
    HeadersMixin headers;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        uri = tls.apply(uri);
        ExportInfo info = NbdClient.info(uri, headers.options()).get();
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uri", uri.toString());
        m.put("export", info.name());
        m.put("description", info.description());
        m.put("size", info.size());
        m.put("flags", info.flagNames());
        m.put("read_only", info.readOnly());
        m.put("structured_replies", info.structuredReplies());
        m.put("extended_headers", info.extendedHeaders());
        Map<String, Object> bs = new LinkedHashMap<>();
        bs.put("minimum", info.minimumBlock());
        bs.put("preferred", info.preferredBlock());
        bs.put("maximum", info.blockSize() == null ? null : info.blockSize().maximum());
        bs.put("advertised", info.blockSize() != null);
        m.put("block_size", bs);
        m.put("meta_contexts", info.metaContexts().keySet());
        Map<String, Boolean> can = capabilities(info);
        m.putAll(can);
        if (json) {
            out.println(Json.write(m));
            return 0;
        }
        out.printf("export:           \"%s\"%n", info.name());
        if (info.description() != null && !info.description().isEmpty()) {
            out.printf("description:      %s%n", info.description());
        }
        out.printf("size:             %d (%s)%n", info.size(), Sizes.format(info.size()));
        out.printf("flags:            0x%04x %s%n", info.transmissionFlags(), String.join(" ", info.flagNames()));
        out.printf("block size:       minimum %d, preferred %d, maximum %s%s%n", info.minimumBlock(), info.preferredBlock(),
                info.blockSize() == null ? "unknown" : Long.toString(info.blockSize().maximum()),
                info.blockSize() == null ? " (not advertised: defaults)" : "");
        out.printf("structured:       %s%n", info.structuredReplies() ? "yes" : "no");
        out.printf("extended headers: %s%n", info.extendedHeaders() ? "yes" : "no");
        out.printf("meta contexts:    %s%n", info.metaContexts().isEmpty() ? "none" : String.join(" ", info.metaContexts().keySet()));
        can.forEach((name, value) -> out.printf("%-17s %s%n", name + ":", value));
        return 0;
    }

    /** The export's abilities under nbdinfo's names, from the transmission flags. */
    static Map<String, Boolean> capabilities(ExportInfo info) {
        Map<String, Boolean> can = new LinkedHashMap<>();
        can.put("is_rotational", info.has(Nbd.NBD_FLAG_ROTATIONAL));
        can.put("is_read_only", info.readOnly());
        can.put("can_cache", info.has(Nbd.NBD_FLAG_SEND_CACHE));
        can.put("can_df", info.has(Nbd.NBD_FLAG_SEND_DF));
        can.put("can_fast_zero", info.has(Nbd.NBD_FLAG_SEND_FAST_ZERO));
        can.put("can_flush", info.has(Nbd.NBD_FLAG_SEND_FLUSH));
        can.put("can_fua", info.has(Nbd.NBD_FLAG_SEND_FUA));
        can.put("can_multi_conn", info.has(Nbd.NBD_FLAG_CAN_MULTI_CONN));
        can.put("can_trim", info.has(Nbd.NBD_FLAG_SEND_TRIM));
        can.put("can_zero", info.has(Nbd.NBD_FLAG_SEND_WRITE_ZEROES));
        return can;
    }
}
