package org.bufcached.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.bufcached.config.AdminConfig;
import org.bufcached.config.BufcachedConfig;
import org.bufcached.config.ConfigException;
import org.bufcached.config.ConfigLoader;
import org.bufcached.config.ExportConfig;
import org.bufcached.config.HostPort;
import org.bufcached.config.IoConfig;
import org.bufcached.config.IoEngineName;
import org.bufcached.config.ListenConfig;
import org.bufcached.config.ListenUnix;
import org.bufcached.config.MetricsConfig;
import org.bufcached.config.TlsConfig;
import org.bufcached.config.TlsMode;
import org.bufcached.daemon.logging.Logging;
import org.bufcached.daemon.reload.Reloader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The {@code bufcached} command line. */
@Command(name = "bufcached", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Serves files as network block devices over NBD, through a buffer cache.",
        footer = {"", "With no arguments: export 'demo' (var/demo.img, 1 GiB, sparse) on 127.0.0.1:10809 and var/bufcached.sock.",
            "--tcp and --unix replace every configured listener, of both kinds: give both to keep a unix socket",
            "next to a TCP port (the start-up log names the listeners that were dropped).",
            "At start and after each reload the log has one line per export with its URIs.",
            "Exit codes: 0 stopped cleanly, 1 runtime failure, 2 bad command line or configuration, a port in use",
            "or an export that cannot be opened; every start-up error is one line on stderr, starting 'bufcached: '."})
public final class Main implements Callable<Integer> {
    static final int EXIT_RUNTIME = 1;
    static final int EXIT_CONFIG = 2;
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML configuration (default: " + "/etc/bufcached/bufcached.yaml if it exists, else the embedded default).")
    Path config;

    @Option(names = "--check-config", paramLabel = "FILE", description = "Validate FILE, print the problems, and exit.")
    Path checkConfig;

    @Option(names = "--tcp", paramLabel = "HOST:PORT", converter = HostPortOption.class,
            description = "Listen for NBD on TCP (repeatable). Replaces all configured listeners, the unix sockets too.")
    List<HostPort> tcp = new ArrayList<>();

    @Option(names = "--unix", paramLabel = "PATH",
            description = "Listen for NBD on a Unix domain socket (repeatable). Replaces all configured listeners, "
                    + "TCP too.")
    List<Path> unix = new ArrayList<>();

    @Option(names = "--metrics", paramLabel = "HOST:PORT|off",
            description = "Serve /metrics, /healthz and /readyz on HOST:PORT, or not at all with 'off' "
                    + "(overrides metrics.listen and metrics.enabled; default 127.0.0.1:10810).")
    String metrics;

    @Option(names = "--admin-socket", paramLabel = "PATH|off",
            description = "Serve the admin API (bufcache admin) on the unix socket PATH, mode 0600, or not at all "
                    + "with 'off' (overrides admin.path; default: off unless the configuration sets it).")
    String adminSocket;

    @Option(names = "--io-engine", paramLabel = "auto|io_uring|epoll|nio",
            description = "The I/O engine (overrides io.engine): io_uring where the kernel allows it with auto.")
    String ioEngine;

    @Option(names = "--export", paramLabel = "NAME=FILE[,size=SIZE][,readonly][,bitmap=B]...",
            converter = ExportOption.class,
            description = {"Export FILE as NAME (repeatable). size= creates or extends a sparse file; SIZE takes "
                    + "K, M, G, T or KiB, MiB, GiB, TiB. Each bitmap=B keeps a dirty bitmap B (64 KiB granularity), "
                    + "served as the meta context qemu:dirty-bitmap:B. Replaces the embedded default export; adds to "
                    + "(or replaces by name) the exports of a configuration file."})
    List<ExportConfig> exports = new ArrayList<>();

    @Option(names = "--tls", paramLabel = "off|on|require",
            description = "TLS for NBD_OPT_STARTTLS: off, on (offered; plaintext clients served too) or require "
                    + "(plaintext refused). Overrides tls.mode.")
    TlsMode tlsMode;

    @Option(names = "--tls-certificates", paramLabel = "DIR",
            description = "X.509 files: ca-cert.pem, server-cert.pem, server-key.pem, optional ca-crl.pem "
                    + "(overrides tls.certificates and tls.psk-file).")
    Path tlsCertificates;

    @Option(names = "--tls-verify-peer",
            description = "Clients must present a certificate signed by ca-cert.pem (sets tls.verify-peer).")
    boolean tlsVerifyPeer;

    @Option(names = "--tls-psk", paramLabel = "FILE",
            description = "Pre-shared keys, lines of username:hexkey as psktool writes them; the file must not be "
                    + "readable by others (overrides tls.psk-file and tls.certificates).")
    Path tlsPsk;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The configured command line; tests set its writers to read what it prints. */
    static CommandLine commandLine() {
        CommandLine cmd = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        cmd.setParameterExceptionHandler((e, rest) -> {
            // Command-line mistakes are start-up errors too: the same one-line style.
            e.getCommandLine().getErr().println("bufcached: " + e.getMessage());
            e.getCommandLine().getErr().println("Try 'bufcached --help' for more information.");
            return EXIT_CONFIG;
        });
        return cmd;
    }

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (checkConfig != null) {
            return check(checkConfig);
        }
        BufcachedConfig base;
        BufcachedConfig effective;
        try {
            base = loadFile();
            effective = withOverrides(base);
            Logging.configure(effective.logging());
        } catch (ConfigException e) {
            e.problems().forEach(problem -> startupError(problem.toString()));
            return EXIT_CONFIG;
        } catch (IllegalArgumentException e) {
            startupError(e.getMessage());
            return EXIT_CONFIG;
        }
        logDroppedListeners(base.listen(), effective.listen());
        Daemon daemon = new Daemon(effective);
        Reloader reloader = new Reloader(this::load, daemon, daemon.systemd().notifier(), daemon.reloadMeters());
        daemon.reloader(reloader);
        try {
            daemon.start();
        } catch (IOException | RuntimeException e) {
            // Listeners in use, export files that cannot be opened: the configuration does not fit this machine.
            startupError(e.getMessage());
            return EXIT_CONFIG;
        }
        Signals.onHangup(reloader::request);
        Signals.onTermination(() -> new Thread(() -> {
            reloader.close();
            daemon.stop();
        }, "bufcached-shutdown").start());
        LOG.info("bufcached ready: {}", daemon.status());
        try {
            return daemon.awaitStopped() ? 0 : EXIT_RUNTIME;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return EXIT_RUNTIME;
        }
    }

    /** The configuration file (or the default) with the command line applied; reloads read it the same way. */
    private BufcachedConfig load() throws ConfigException {
        return withOverrides(loadFile());
    }

    private BufcachedConfig loadFile() throws ConfigException {
        return config != null ? ConfigLoader.load(config) : ConfigLoader.loadDefault();
    }

    /**
     * Every error that stops the start is one line in one style, on stderr even
     * when the log goes elsewhere: {@code bufcached: WHERE: WHAT (WHAT TO DO)}.
     */
    private void startupError(String message) {
        spec.commandLine().getErr().println("bufcached: " + message);
        spec.commandLine().getErr().flush();
    }

    /** Says which configured listeners --tcp/--unix replaced, so none disappears silently. */
    private static void logDroppedListeners(ListenConfig configured, ListenConfig effective) {
        List<String> dropped = new ArrayList<>();
        configured.tcp().stream().filter(t -> !effective.tcp().contains(t)).forEach(t -> dropped.add("tcp " + t));
        configured.unix().stream().map(ListenUnix::path)
                .filter(p -> effective.unix().stream().noneMatch(u -> u.path().equals(p)))
                .forEach(p -> dropped.add("unix " + p));
        if (!dropped.isEmpty()) {
            LOG.info("--tcp/--unix replace the configured listeners: not listening on {}", String.join(", ", dropped));
        }
    }

    private int check(Path file) {
        try {
            BufcachedConfig c = ConfigLoader.load(file);
            spec.commandLine().getOut().println(file + ": OK (" + c.exports().size() + " exports)");
            return 0;
        } catch (ConfigException e) {
            e.problems().forEach(problem -> spec.commandLine().getErr().println(problem));
            return EXIT_CONFIG;
        }
    }

    /**
     * Applies the command line over the configuration: listeners given on the
     * command line replace the configured ones; exports replace the embedded
     * default's, and add to or replace by name those of a file.
     */
    BufcachedConfig withOverrides(BufcachedConfig base) {
        ListenConfig listen = base.listen();
        if (!tcp.isEmpty() || !unix.isEmpty()) {
            List<ListenUnix> sockets = new ArrayList<>();
            for (Path p : unix) {
                sockets.add(new ListenUnix(p.toAbsolutePath().normalize(), java.util.OptionalInt.empty(),
                        java.util.Optional.empty(), java.util.Optional.empty()));
            }
            listen = new ListenConfig(tcp, sockets);
        }
        List<ExportConfig> merged = base.exports();
        if (!exports.isEmpty()) {
            Map<String, ExportConfig> byName = new LinkedHashMap<>();
            if (base.source().isPresent()) {
                base.exports().forEach(e -> byName.put(e.name(), e));
            }
            for (ExportConfig e : exports) {
                if (exports.stream().filter(o -> o.name().equals(e.name())).count() > 1) {
                    throw new IllegalArgumentException("export name '" + e.name() + "' given twice");
                }
                byName.put(e.name(), e);
            }
            merged = new ArrayList<>(byName.values());
            for (ExportConfig a : merged) {
                for (ExportConfig b : merged) {
                    if (a != b && a.path().equals(b.path())) {
                        throw new IllegalArgumentException("exports '" + a.name() + "' and '" + b.name()
                                + "' use the same file " + a.path());
                    }
                }
            }
        }
        MetricsConfig metricsConfig = base.metrics();
        if (metrics != null) {
            metricsConfig = metrics.equals("off") ? new MetricsConfig(false, metricsConfig.listen())
                    : new MetricsConfig(true, HostPort.parse(metrics));
        }
        IoConfig io = base.io();
        if (ioEngine != null) {
            IoEngineName engine = java.util.Arrays.stream(IoEngineName.values())
                    .filter(e -> e.yamlName().equalsIgnoreCase(ioEngine.strip())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("--io-engine: expected auto, io_uring, epoll or nio,"
                            + " got '" + ioEngine + "'"));
            io = new IoConfig(engine, io.eventLoops(), io.workers());
        }
        TlsConfig tls = tlsOverrides(base.tls());
        if (tls != base.tls()) {
            for (ExportConfig e : merged) {
                for (TlsConfig.Problem p : e.tlsProblems(tls)) {
                    throw new IllegalArgumentException("export '" + e.name() + "': " + p.key() + ": " + p.message());
                }
            }
        }
        return new BufcachedConfig(listen, merged, base.cache(), io, base.limits(), metricsConfig, base.logging(), tls,
                adminOverride(base.admin()), base.source());
    }

    /**
     * The {@code --tls*} flags over the file's {@code tls}: as with nbdkit,
     * certificates and a PSK file exclude each other, so giving one drops the
     * other; the result is checked as the file's section is.
     */
    private TlsConfig tlsOverrides(TlsConfig base) {
        if (tlsMode == null && tlsCertificates == null && tlsPsk == null && !tlsVerifyPeer) {
            return base;
        }
        Optional<Path> certificates = tlsCertificates != null ? Optional.of(tlsCertificates.toAbsolutePath().normalize())
                : tlsPsk != null ? Optional.empty() : base.certificates();
        Optional<Path> psk = tlsPsk != null ? Optional.of(tlsPsk.toAbsolutePath().normalize())
                : tlsCertificates != null ? Optional.empty() : base.pskFile();
        TlsConfig tls = new TlsConfig(tlsMode != null ? tlsMode : base.mode(), certificates,
                tlsVerifyPeer || base.verifyPeer(), psk, base.provider());
        certificates.flatMap(TlsConfig::certificatesProblem).ifPresent(p -> fail("--tls-certificates", p));
        psk.flatMap(TlsConfig::pskFileProblem).ifPresent(p -> fail("--tls-psk", p));
        tls.problems().forEach(p -> fail("tls." + p.key(), p.message()));
        return tls;
    }

    /** {@code --admin-socket PATH|off} over the file's {@code admin}. */
    private AdminConfig adminOverride(AdminConfig base) {
        if (adminSocket == null) {
            return base;
        }
        if (adminSocket.equals("off")) {
            return AdminConfig.OFF;
        }
        if (adminSocket.isBlank()) {
            fail("--admin-socket", "expected a path or off");
        }
        return new AdminConfig(Optional.of(new ListenUnix(Path.of(adminSocket).toAbsolutePath().normalize(),
                java.util.OptionalInt.of(AdminConfig.DEFAULT_MODE), Optional.empty(), Optional.empty())));
    }

    private static void fail(String option, String problem) {
        throw new IllegalArgumentException(option + ": " + problem);
    }
}
