package org.bufcached.client.cli;

import java.util.concurrent.Callable;
import org.bufcached.client.ExportInfo;
import org.bufcached.client.NbdClient;
import org.bufcached.client.NbdUri;
import org.bufcached.protocol.OptionReplies.ServerEntry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bufcache list URI}: the exports of NBD_OPT_LIST, each with size (NBD_OPT_INFO) and description. */
@Command(name = "list", mixinStandardHelpOptions = true, description = "List the exports of a server with sizes and descriptions.")
final class ListCommand implements Callable<Integer> {
    @Parameters(paramLabel = "URI", description = "NBD URI of the server (the export part is ignored)")
    NbdUri uri;

    @Mixin
    TlsMixin tls;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        uri = tls.apply(uri);
        for (ServerEntry e : NbdClient.list(uri).get()) {
            String size;
            try {
                ExportInfo info = NbdClient.info(uri.withExport(e.name())).get();
                size = info.size() + " (" + Sizes.format(info.size()) + ")";
            } catch (java.util.concurrent.ExecutionException ex) {
                size = "size unknown";
            }
            spec.commandLine().getOut().println((e.name().isEmpty() ? "\"\"" : e.name()) + "\t" + size
                    + (e.description().isEmpty() ? "" : "\t" + e.description()));
        }
        return 0;
    }
}
