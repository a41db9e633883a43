package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon started with no arguments at all, in an empty working directory:
 * the embedded default serves export {@code demo} from {@code var/demo.img}
 * (1 GiB, sparse) on 127.0.0.1:10809 and on {@code var/bufcached.sock}, with
 * metrics on 127.0.0.1:10810. Skipped when either port is taken.
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class DefaultConfigurationIT {
    private static final int PORT = 10809;
    private static final int METRICS_PORT = 10810;
    private static final long GiB = 1L << 30;

    @TempDir
    Path tmp;

    @Test
    void noArgumentsServesTheDemoExport() throws Exception {
        Tool.require("nbdinfo", "libnbd-bin");
        assumeTrue(!Files.exists(Path.of("/etc/bufcached/bufcached.yaml")),
                "/etc/bufcached/bufcached.yaml exists, so the daemon would not use its embedded default; skipping");
        assumeTrue(DaemonProcess.portFree(PORT), "127.0.0.1:" + PORT
                + " is already in use (another NBD server on this machine?); skipping the no-argument test");
        assumeTrue(DaemonProcess.portFree(METRICS_PORT), "127.0.0.1:" + METRICS_PORT + " (the default metrics"
                + " endpoint) is already in use (another bufcached on this machine?); skipping the no-argument test");
        Path work = tmp.resolve("work");
        try (DaemonProcess d = DaemonProcess.builder(work).noArguments().start()) {
            Path image = work.resolve("var/demo.img");
            assertThat(d.socket()).isEqualTo(work.resolve("var/bufcached.sock"));
            assertThat(image).isRegularFile();
            assertThat(Files.size(image)).isEqualTo(GiB);
            Tool.Result blocks = Tool.run("stat", "--format=%b %B", image.toString()).assertOk();
            String[] b = blocks.stdout().strip().split(" ");
            assertThat(Long.parseLong(b[0]) * Long.parseLong(b[1])).as("bytes allocated to the sparse demo image")
                    .isLessThan(16L << 20);

            Tool.Result list = Tool.run("nbdinfo", "--list", "nbd://127.0.0.1:" + PORT).assertOk();
            assertThat(list.stdout()).contains("export=\"demo\"", "export-size: " + GiB + " ", "description: ");
            assertThat(Tool.run("nbdinfo", "--size", "nbd://127.0.0.1:" + PORT + "/demo").assertOk().stdout().strip())
                    .isEqualTo(String.valueOf(GiB));
            assertThat(Tool.run("nbdinfo", "--size", d.uri("demo")).assertOk().stdout().strip())
                    .isEqualTo(String.valueOf(GiB));
            // the default configuration also serves metrics
            java.net.http.HttpResponse<String> metrics = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + METRICS_PORT
                            + "/metrics")).timeout(java.time.Duration.ofSeconds(10)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).as("GET /metrics: %s", metrics.body()).isEqualTo(200);

            // "" is the default export, which is demo
            assertThat(Tool.run("nbdinfo", "--size", "nbd://127.0.0.1:" + PORT).assertOk().stdout().strip())
                    .isEqualTo(String.valueOf(GiB));
        }
    }
}
