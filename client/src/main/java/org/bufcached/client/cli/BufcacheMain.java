package org.bufcached.client.cli;

import java.io.PrintWriter;
import org.bufcached.client.Errors;
import org.bufcached.client.NbdUri;
import org.bufcached.client.Transport;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bufcache} command line tool. Exit codes: 0 success, 1 I/O or protocol
 * error, 2 usage error. Errors are one line on stderr, naming the server's error
 * where there is one.
 */
@Command(name = "bufcache", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Talk NBD to bufcached (or any NBD server): inspect, copy, benchmark, attach.",
        subcommands = {ListCommand.class, InfoCommand.class, MapCommand.class, ReadCommand.class, WriteCommand.class,
            CopyCommand.class, BenchCommand.class, StatsCommand.class, AttachCommand.class, DetachCommand.class,
            AdminCommand.class,
            CommandLine.HelpCommand.class})
public final class BufcacheMain implements Runnable {
    public static final int EXIT_IO = 1;
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    /** A configured command line with every subcommand; tests run it with their own writers. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        return configure(new CommandLine(new BufcacheMain()), out, err);
    }

    /**
     * The command line that runs {@code args}. When the first argument names a subcommand,
     * only that one is built: picocli reads every subcommand's annotations by reflection,
     * a fifth of a second of start-up for the ten a run does not use. Anything else (no
     * subcommand, {@code help}, an option, a typo) gets the whole tree.
     */
    static CommandLine commandLine(PrintWriter out, PrintWriter err, String[] args) {
        Class<?> only = args.length == 0 ? null : subcommand(args[0]);
        if (only == null) {
            return commandLine(out, err);
        }
        Command top = BufcacheMain.class.getAnnotation(Command.class);
        CommandLine.Model.CommandSpec spec = CommandLine.Model.CommandSpec.wrapWithoutInspection(new BufcacheMain())
                .name(top.name());
        CommandLine cmd = new CommandLine(spec);
        cmd.addSubcommand(args[0], only);
        return configure(cmd, out, err);
    }

    /** The subcommand class named {@code name}, or null; {@code help} needs the others, so never it. */
    private static Class<?> subcommand(String name) {
        for (Class<?> c : BufcacheMain.class.getAnnotation(Command.class).subcommands()) {
            Command sub = c.getAnnotation(Command.class);
            if (c != CommandLine.HelpCommand.class && sub.name().equals(name)) {
                return c;
            }
        }
        return null;
    }

    /** Converters and error handling, set on the whole tree once it is built. */
    private static CommandLine configure(CommandLine cmd, PrintWriter out, PrintWriter err) {
        cmd.registerConverter(NbdUri.class, converting(NbdUri::parse));
        cmd.registerConverter(Long.class, converting(Sizes::parse));
        cmd.registerConverter(long.class, converting(Sizes::parse));
        cmd.setOut(out).setErr(err);
        cmd.setExitCodeExceptionMapper(t -> EXIT_IO);
        cmd.setParameterExceptionHandler((ex, args) -> {
            // A value that does not convert (a malformed URI, a bad size) explains itself in one line.
            String message = ex.getMessage();
            if (ex.getCause() instanceof CommandLine.TypeConversionException && ex.getArgSpec() != null) {
                CommandLine.Model.ArgSpec arg = ex.getArgSpec();
                message = (arg.isOption() ? ((CommandLine.Model.OptionSpec) arg).longestName() + ": " : "")
                        + ex.getCause().getMessage();
            }
            ex.getCommandLine().getErr().println("bufcache: " + message);
            ex.getCommandLine().getErr().println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help' for more information.");
            return EXIT_USAGE;
        });
        cmd.setExecutionExceptionHandler((ex, c, parsed) -> {
            c.getErr().println("bufcache: " + Errors.message(ex));
            c.getErr().flush();
            return ex instanceof UsageException ? EXIT_USAGE : EXIT_IO;
        });
        return cmd;
    }

    /** A converter whose IllegalArgumentException becomes picocli's conversion error, message intact. */
    private static <T> CommandLine.ITypeConverter<T> converting(java.util.function.Function<String, T> parse) {
        return text -> {
            try {
                return parse.apply(text);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        };
    }

    public static void main(String[] args) {
        // Start-up of a short command: Netty's allocator events would load the JFR classes (0.1 s),
        // and jnr-ffi's generated call stubs cost more to build than the few calls made here save.
        defaultProperty("io.netty.jfr.enabled", "false");
        defaultProperty("jnr.ffi.asm.enabled", "false");
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = commandLine(out, err, args).execute(args);
        out.flush();
        Transport.shutdownShared();
        System.exit(code);
    }

    private static void defaultProperty(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
