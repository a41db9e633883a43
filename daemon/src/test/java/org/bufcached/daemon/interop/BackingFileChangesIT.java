package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operator accidents under a connected libnbd client: the backing file cut short
 * while exported (reads and writes past its new end get EIO, the connection and
 * the rest of the export go on, the log names the file and its new size), then
 * replaced by another file (the log warns that the daemon serves a file no path
 * names any more).
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BackingFileChangesIT {
    @TempDir
    Path tmp;

    @Test
    void truncatedThenReplacedUnderAConnectedClient() throws Exception {
        Tool.requirePythonNbd();
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("d")).export("disk", 8 * MiB).start()) {
            Path script = tmp.resolve("file-changes.py");
            try (InputStream in = BackingFileChangesIT.class.getResourceAsStream("file-changes.py")) {
                Files.write(script, in.readAllBytes());
            }
            Tool.Result r = Tool.run(Duration.ofSeconds(90), tmp, java.util.List.of(Tool.PYTHON, script.toString(),
                    d.uri("disk"), d.file("disk").toString(), d.dir().resolve("daemon.log").toString()));
            r.assertOk();
            assertThat(r.stdout().lines()).containsExactly(
                    "read-past-new-end ERROR 5",
                    "write-past-new-end ERROR 5",
                    "read-before-new-end OK",
                    "write-before-new-end OK",
                    "write-after-replace OK",
                    "flush-after-replace OK",
                    "done");
            assertThat(d.log()).contains("export disk: " + d.file("disk") + " shrank from 8388608 to 4194304 bytes")
                    .contains("was replaced by another file while exported");
            assertThat(d.log()).doesNotContain("closed: a reply's data could not be read");
        }
    }
}
