package org.bufcached.client.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import org.bufcached.client.admin.AdminClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code bufcache admin}: the daemon's admin socket. Each subcommand is one
 * request; a refusal prints the daemon's error and exits 1.
 */
@Command(name = "admin", mixinStandardHelpOptions = true,
        description = {"Manage a running bufcached through its admin socket: exports, connections, dirty bitmaps,",
            "reload. The socket is the daemon user's only (mode 0600) unless admin.mode says otherwise."},
        subcommands = {AdminCommand.Exports.class, AdminCommand.Connections.class, AdminCommand.Close.class,
            AdminCommand.Bitmap.class, AdminCommand.Reload.class},
        footer = {"", "Examples:",
            "  bufcache admin exports",
            "  bufcache admin connections",
            "  bufcache admin close 17",
            "  bufcache admin bitmap add disk backup --granularity 64K",
            "  bufcache admin bitmap clear disk backup",
            "  bufcache admin bitmap remove disk backup",
            "  bufcache admin reload",
            "  bufcache admin --socket var/admin.sock --json exports"})
final class AdminCommand implements Runnable {
    @Option(names = "--socket", defaultValue = "/run/bufcached/admin.sock", paramLabel = "PATH",
            scope = CommandLine.ScopeType.INHERIT,
            description = "the daemon's admin socket (default ${DEFAULT-VALUE})")
    Path socket;

    @Option(names = "--json", scope = CommandLine.ScopeType.INHERIT,
            description = "print the daemon's JSON reply as it is")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    /**
     * Sends one request and prints the reply: raw with --json, else as {@code human} formats it. The
     * subcommands print on this command's writer: the one the root command line sets for all of them.
     */
    int request(Request request, BiConsumer<PrintWriter, JsonNode> human) throws IOException {
        AdminClient.Reply reply = request.send(new AdminClient(socket));
        PrintWriter out = spec.commandLine().getOut();
        if (!reply.ok()) {
            throw new IOException("admin: " + reply.error());
        }
        if (json) {
            out.println(reply.text());
        } else {
            human.accept(out, reply.body());
        }
        out.flush();
        return 0;
    }

    @FunctionalInterface
    interface Request {
        AdminClient.Reply send(AdminClient client) throws IOException;
    }

    static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Command(name = "exports", mixinStandardHelpOptions = true,
            description = "List the exports: state, durability, connections, dirty data and dirty bitmaps.")
    static final class Exports implements Callable<Integer> {
        @ParentCommand
        AdminCommand admin;

        @Override
        public Integer call() throws IOException {
            return admin.request(c -> c.get("/v1/exports"), (out, body) -> {
                out.printf("%-16s %-9s %-8s %5s %12s  %s%n", "EXPORT", "STATE", "DURABLE", "CONNS", "DIRTY",
                        "BITMAPS (dirty bytes)");
                for (JsonNode e : body.path("exports")) {
                    StringBuilder bitmaps = new StringBuilder();
                    for (JsonNode b : e.path("bitmaps")) {
                        bitmaps.append(bitmaps.length() == 0 ? "" : ", ").append(b.path("name").asText())
                                .append(" (").append(b.path("dirty_bytes").asLong()).append(")");
                    }
                    out.printf("%-16s %-9s %-8s %5d %12d  %s%n", e.path("name").asText(), e.path("state").asText(),
                            e.path("durable").asBoolean() ? "yes" : "NO", e.path("connections").asInt(),
                            e.path("dirty_bytes").asLong(), bitmaps.length() == 0 ? "-" : bitmaps);
                }
            });
        }
    }

    @Command(name = "connections", mixinStandardHelpOptions = true,
            description = "List the open connections: id, peer, export, TLS identity, bytes, requests, age.")
    static final class Connections implements Callable<Integer> {
        @ParentCommand
        AdminCommand admin;

        @Override
        public Integer call() throws IOException {
            return admin.request(c -> c.get("/v1/connections"), (out, body) -> {
                out.printf("%6s %-28s %-16s %-20s %12s %12s %9s %8s%n", "ID", "PEER", "EXPORT", "TLS", "BYTES_IN",
                        "BYTES_OUT", "REQUESTS", "AGE_S");
                for (JsonNode c : body.path("connections")) {
                    out.printf("%6d %-28s %-16s %-20s %12d %12d %9d %8.1f%n", c.path("id").asLong(),
                            c.path("peer").asText(), c.path("export").asText("-"),
                            c.path("tls_identity").asText("-"), c.path("bytes_in").asLong(),
                            c.path("bytes_out").asLong(), c.path("requests").asLong(), c.path("age_seconds").asDouble());
                }
            });
        }
    }

    @Command(name = "close", mixinStandardHelpOptions = true,
            description = "Close a connection at once (its requests in flight are not answered).")
    static final class Close implements Callable<Integer> {
        @ParentCommand
        AdminCommand admin;
        @Parameters(paramLabel = "ID", description = "the connection's id (conn= in the log, ID in 'connections')")
        long id;

        @Override
        public Integer call() throws IOException {
            return admin.request(c -> c.delete("/v1/connections/" + id),
                    (out, body) -> out.println("closed connection " + id));
        }
    }

    @Command(name = "reload", mixinStandardHelpOptions = true,
            description = {"Reload the configuration (as SIGHUP does) and print the result: applied, unchanged, or",
                "rejected with the reasons (exit 1); a rejected reload changes nothing."})
    static final class Reload implements Callable<Integer> {
        @ParentCommand
        AdminCommand admin;

        @Override
        public Integer call() throws IOException {
            boolean[] rejected = {false};
            admin.request(c -> c.post("/v1/reload", null), (out, body) -> {
                out.println("reload " + body.path("result").asText());
                body.path("problems").forEach(p -> out.println("  " + p.asText()));
                rejected[0] = body.path("result").asText().equals("rejected");
            });
            return rejected[0] ? BufcacheMain.EXIT_IO : 0;
        }
    }

    @Command(name = "bitmap", mixinStandardHelpOptions = true,
            description = {"Add, clear or remove a dirty bitmap (served as the meta context qemu:dirty-bitmap:NAME).",
                "A bitmap records every change from the moment it is added or cleared."},
            subcommands = {BitmapAdd.class, BitmapClear.class, BitmapRemove.class})
    static final class Bitmap implements Runnable {
        @ParentCommand
        AdminCommand admin;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: add, clear or remove");
        }
    }

    /**
     * Mixed into each {@code bitmap} subcommand: the EXPORT and NAME it acts on, and its requests
     * (picocli injects the mixee's parent, {@code bitmap}, into a mixin's {@code @ParentCommand}).
     */
    static final class BitmapOperand {
        @ParentCommand
        Bitmap bitmap;
        @Parameters(index = "0", paramLabel = "EXPORT")
        String export;
        @Parameters(index = "1", paramLabel = "NAME")
        String name;

        int request(Request request, BiConsumer<PrintWriter, JsonNode> human) throws IOException {
            return bitmap.admin.request(request, human);
        }

        /** The export's bitmaps: where a new one is posted. */
        String bitmaps() {
            return "/v1/exports/" + encode(export) + "/bitmaps";
        }

        /** This bitmap. */
        String path() {
            return bitmaps() + "/" + encode(name);
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Create an empty dirty bitmap.")
    static final class BitmapAdd implements Callable<Integer> {
        @CommandLine.Mixin
        BitmapOperand bitmap;
        @Option(names = "--granularity", paramLabel = "SIZE", defaultValue = "64K",
                description = "bytes per bit: a power of two from 512 to 1G (default ${DEFAULT-VALUE})")
        long granularity;

        @Override
        public Integer call() throws IOException {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", bitmap.name);
            body.put("granularity", granularity);
            return bitmap.request(c -> c.post(bitmap.bitmaps(), body),
                    (out, reply) -> out.println("added bitmap " + bitmap.name + " to export " + bitmap.export
                            + " (context " + reply.path("context").asText() + ", granularity "
                            + reply.path("granularity").asLong() + ")"));
        }
    }

    @Command(name = "clear", mixinStandardHelpOptions = true,
            description = "Clear a dirty bitmap: it records changes from the moment this returns (the clear is durable).")
    static final class BitmapClear implements Callable<Integer> {
        @CommandLine.Mixin
        BitmapOperand bitmap;

        @Override
        public Integer call() throws IOException {
            return bitmap.request(c -> c.post(bitmap.path() + "/clear", null),
                    (out, reply) -> out.println("cleared bitmap " + bitmap.name + " of export " + bitmap.export));
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove a dirty bitmap and its file (clients that selected it get errors).")
    static final class BitmapRemove implements Callable<Integer> {
        @CommandLine.Mixin
        BitmapOperand bitmap;

        @Override
        public Integer call() throws IOException {
            return bitmap.request(c -> c.delete(bitmap.path()),
                    (out, reply) -> out.println("removed bitmap " + bitmap.name + " of export " + bitmap.export));
        }
    }
}
