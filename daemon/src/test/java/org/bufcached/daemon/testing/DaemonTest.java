package org.bufcached.daemon.testing;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Base of tests that talk to a fresh {@link TestDaemon} with the standard exports, one per test. */
public abstract class DaemonTest {
    @TempDir
    protected Path dir;
    protected TestDaemon nbd;

    @BeforeEach
    void startDaemon() throws IOException {
        nbd = TestDaemon.start(dir);
    }

    @AfterEach
    void stopDaemon() throws IOException {
        nbd.close();
    }
}
