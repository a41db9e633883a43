package org.bufcached.client.cli;

import java.io.PrintWriter;
import org.bufcached.client.Errors;
import org.bufcached.client.NbdUri;
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

    /** A configured command line; tests run it with their own writers. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cmd = new CommandLine(new BufcacheMain());
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
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = commandLine(out, err).execute(args);
        out.flush();
        System.exit(code);
    }
}
