package org.bufcached.client.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bufcached.client.NbdClient;
import org.bufcached.client.NbdUri;
import org.bufcached.protocol.OptionReplies.ServerEntry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bufcache list [URI]}: the exports of NBD_OPT_LIST, each with size (NBD_OPT_INFO) and description. */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "List the exports of a server with sizes and descriptions, one per line (name, size, description).",
        footer = {"", "Examples:",
            "  bufcache list                                  the local bufcached, over /run/bufcached/nbd.sock",
            "  bufcache list nbd://127.0.0.1:10809",
            "  bufcache list --json nbd+unix:///?socket=/run/bufcached/nbd.sock",
            "", Help.URI_FORMS})
final class ListCommand implements Callable<Integer> {
    @Parameters(paramLabel = "URI", arity = "0..1", defaultValue = NbdUri.DEFAULT,
            description = "NBD URI of the server; the export part is ignored (default ${DEFAULT-VALUE})")
    NbdUri uri;

    @Option(names = "--json", description = "print a JSON array of {name, size, description}")
    boolean json;

    @Mixin
    TlsMixin tls;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        uri = tls.apply(uri);
        List<Map<String, Object>> exports = new ArrayList<>();
        for (ServerEntry e : NbdClient.list(uri).get()) {
            Long size;
            try {
                size = NbdClient.info(uri.withExport(e.name())).get().size();
            } catch (java.util.concurrent.ExecutionException ex) {
                size = null; // listed, but NBD_OPT_INFO refused (e.g. not allowed from here)
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", e.name());
            m.put("size", size);
            m.put("description", e.description());
            exports.add(m);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(exports));
            return 0;
        }
        for (Map<String, Object> m : exports) {
            String name = (String) m.get("name");
            Long size = (Long) m.get("size");
            String description = (String) m.get("description");
            out.println((name.isEmpty() ? "\"\"" : name) + "\t"
                    + (size == null ? "size unknown" : size + " (" + Sizes.format(size) + ")")
                    + (description.isEmpty() ? "" : "\t" + description));
        }
        return 0;
    }
}
