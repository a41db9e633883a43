package org.bufcached.tls.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Certificate directories in the layout of nbdkit, qemu and libnbd, and PSK
 * files, made at test time as an operator would make them: GnuTLS's certtool for
 * the authority, the servers, the clients and the revocation list (as nbdkit's
 * and qemu's documentation do), psktool for the keys, and OpenSSL for a second
 * authority that nobody trusts. Made once per test JVM; a missing tool skips the
 * test, naming its Debian package.
 *
 * <p>Every client directory holds the real {@code ca-cert.pem}, so the client
 * can verify the server; what differs is the certificate it presents.
 */
public final class TestCertificates {
    /** Subject DN of {@link #client(String) client("alice")}'s certificate, as RFC 2253 writes it. */
    public static final String ALICE_DN = "CN=alice,O=bufcached tests";
    /** The PSK usernames of {@link #pskKeys()}. */
    public static final List<String> PSK_USERS = List.of("alice", "bob");

    private static TestCertificates instance;

    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** Skips the test unless certtool, psktool (gnutls-bin) and openssl are installed. */
    public static void requireTools() {
        for (String tool : List.of("certtool", "psktool", "openssl")) {
            assumeTrue(which(tool), tool + " is not installed (Debian package "
                    + (tool.equals("openssl") ? "openssl" : "gnutls-bin") + "); skipping");
        }
    }

    /** The fixture, made on first use. */
    public static synchronized TestCertificates get() {
        requireTools();
        if (instance == null) {
            try {
                Path dir = Files.createTempDirectory("bufcached-tls-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
                instance = new TestCertificates(dir);
                instance.make();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
    }

    /** {@code ca-cert.pem}, {@code server-cert.pem} (localhost, 127.0.0.1), {@code server-key.pem}. */
    public Path server() {
        return dir.resolve("server");
    }

    /** {@link #server()} with a {@code ca-crl.pem} that revokes {@code client("revoked")}. */
    public Path serverWithCrl() {
        return dir.resolve("server-crl");
    }

    /** Another certificate and key for the same server, from the same authority, for reloads. */
    public Path serverNext() {
        return dir.resolve("server-next");
    }

    /**
     * A client directory: {@code alice} (subject {@link #ALICE_DN}), {@code bob},
     * {@code revoked} (on the list of {@link #serverWithCrl()}), {@code rogue}
     * (CN=alice, but from an authority the server does not trust), or
     * {@code none} (no client certificate).
     */
    public Path client(String name) {
        return dir.resolve("client-" + name);
    }

    /** A PSK file with keys for {@link #PSK_USERS}, readable by its owner only. */
    public Path pskKeys() {
        return dir.resolve("psk/keys.psk");
    }

    /** The same usernames with other keys. */
    public Path pskWrongKeys() {
        return dir.resolve("psk-wrong/keys.psk");
    }

    private void make() throws IOException {
        Path work = Files.createDirectories(dir.resolve("work"));
        template(work, "ca", "cn = \"bufcached test CA\"\nca\ncert_signing_key\ncrl_signing_key\n");
        certtool(work, "--generate-privkey", "--bits", "2048", "--outfile", "ca-key.pem");
        certtool(work, "--generate-self-signed", "--load-privkey", "ca-key.pem", "--template", "ca.tmpl",
                "--outfile", "ca-cert.pem");
        String server = "cn = \"localhost\"\ndns_name = \"localhost\"\nip_address = \"127.0.0.1\"\n"
                + "tls_www_server\nencryption_key\nsigning_key\n";
        issue(work, "server", server);
        issue(work, "server-next", server);
        for (String client : List.of("alice", "bob", "revoked")) {
            issue(work, client, "cn = \"" + client + "\"\norganization = \"bufcached tests\"\ntls_www_client\n"
                    + "encryption_key\nsigning_key\n");
        }
        template(work, "crl", "crl_next_update = 3\ncrl_number = 1\n");
        certtool(work, "--generate-crl", "--load-ca-privkey", "ca-key.pem", "--load-ca-certificate", "ca-cert.pem",
                "--load-certificate", "revoked-cert.pem", "--template", "crl.tmpl", "--outfile", "ca-crl.pem");
        rogue(work);

        layout(server(), work, "ca-cert.pem", "server-cert.pem:server-cert.pem", "server-key.pem:server-key.pem");
        layout(serverWithCrl(), work, "ca-cert.pem", "ca-crl.pem", "server-cert.pem:server-cert.pem",
                "server-key.pem:server-key.pem");
        layout(serverNext(), work, "ca-cert.pem", "server-next-cert.pem:server-cert.pem",
                "server-next-key.pem:server-key.pem");
        for (String client : List.of("alice", "bob", "revoked", "rogue")) {
            layout(client(client), work, "ca-cert.pem", client + "-cert.pem:client-cert.pem",
                    client + "-key.pem:client-key.pem");
        }
        layout(client("none"), work, "ca-cert.pem");

        psk(dir.resolve("psk"));
        psk(dir.resolve("psk-wrong"));
    }

    private void issue(Path work, String name, String template) throws IOException {
        template(work, name, template);
        certtool(work, "--generate-privkey", "--bits", "2048", "--outfile", name + "-key.pem");
        certtool(work, "--generate-certificate", "--load-privkey", name + "-key.pem", "--load-ca-certificate",
                "ca-cert.pem", "--load-ca-privkey", "ca-key.pem", "--template", name + ".tmpl",
                "--outfile", name + "-cert.pem");
    }

    /** An authority of OpenSSL's (keys in PKCS#8) and a client certificate named alice from it. */
    private void rogue(Path work) throws IOException {
        run(work, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue-ca-key.pem",
                "-out", "rogue-ca-cert.pem", "-days", "3", "-subj", "/CN=rogue CA");
        run(work, "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue-key.pem", "-out", "rogue.csr",
                "-subj", "/O=bufcached tests/CN=alice");
        Files.writeString(work.resolve("rogue.ext"), "extendedKeyUsage=clientAuth\n");
        run(work, "openssl", "x509", "-req", "-in", "rogue.csr", "-CA", "rogue-ca-cert.pem", "-CAkey",
                "rogue-ca-key.pem", "-CAcreateserial", "-out", "rogue-cert.pem", "-days", "3", "-extfile", "rogue.ext");
    }

    private static void psk(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String user : PSK_USERS) {
            run(dir, "psktool", "-u", user, "-p", "keys.psk");
        }
        Files.setPosixFilePermissions(dir.resolve("keys.psk"), PosixFilePermissions.fromString("rw-------"));
    }

    /** Copies {@code files} from {@code work} into {@code target}; {@code a:b} copies a as b. */
    private static void layout(Path target, Path work, String... files) throws IOException {
        Files.createDirectories(target);
        for (String f : files) {
            String[] names = f.split(":");
            Files.copy(work.resolve(names[0]), target.resolve(names.length > 1 ? names[1] : names[0]));
        }
    }

    private static void template(Path work, String name, String text) throws IOException {
        Files.writeString(work.resolve(name + ".tmpl"), text + "expiration_days = 3\n", StandardCharsets.UTF_8);
    }

    private static void certtool(Path work, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("certtool"));
        cmd.addAll(List.of(args));
        run(work, cmd.toArray(String[]::new));
    }

    private static void run(Path work, String... cmd) throws IOException {
        Path log = work.resolve("commands.log");
        Process p = new ProcessBuilder(cmd).directory(work.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish in 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "):\n"
                    + Files.readString(log));
        }
    }

    private static boolean which(String tool) {
        return Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator))
                .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }

    private static void delete(Path root) {
        try (Stream<Path> all = Files.walk(root)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory; the system cleans it eventually
        }
    }
}
