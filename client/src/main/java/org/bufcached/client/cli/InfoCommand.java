package org.bufcached.client.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bufcached.client.ExportInfo;
import org.bufcached.client.NbdClient;
import org.bufcached.client.NbdUri;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bufcache info URI}: NBD_OPT_INFO and NBD_OPT_LIST_META_CONTEXT, for people or (--json) scripts. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show an export's size, flags, block size constraints and metadata contexts.")
final class InfoCommand implements Callable<Integer> {
    @Parameters(paramLabel = "URI", description = "NBD URI of the export")
    NbdUri uri;

    @Mixin
    TlsMixin tls;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        uri = tls.apply(uri);
        ExportInfo info = NbdClient.info(uri).get();
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uri", uri.toString());
        m.put("export", info.name());
        m.put("description", info.description());
        m.put("size", info.size());
        m.put("flags", info.flagNames());
        m.put("read_only", info.readOnly());
        m.put("structured_replies", info.structuredReplies());
        Map<String, Object> bs = new LinkedHashMap<>();
        bs.put("minimum", info.minimumBlock());
        bs.put("preferred", info.preferredBlock());
        bs.put("maximum", info.blockSize() == null ? null : info.blockSize().maximum());
        bs.put("advertised", info.blockSize() != null);
        m.put("block_size", bs);
        m.put("meta_contexts", info.metaContexts().keySet());
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
        out.printf("meta contexts:    %s%n", info.metaContexts().isEmpty() ? "none" : String.join(" ", info.metaContexts().keySet()));
        return 0;
    }
}
