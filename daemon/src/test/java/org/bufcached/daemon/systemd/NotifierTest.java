package org.bufcached.daemon.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bufcached.daemon.Daemon;
import org.bufcached.daemon.reload.ConfigFile;
import org.bufcached.daemon.reload.Reloader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sd_notify protocol against a real datagram socket standing in for systemd's. */
class NotifierTest {
    @TempDir
    Path dir;

    @Test
    void sendsStatesToASocketPath() throws Exception {
        String path = dir.resolve("notify").toString();
        try (NotifySocket systemd = new NotifySocket(path); Notifier notifier = new Notifier(path)) {
            notifier.ready("serving");
            assertThat(systemd.next()).isEqualTo("READY=1\nSTATUS=serving");
            notifier.reloading("reloading");
            assertThat(systemd.next()).startsWith("RELOADING=1\nMONOTONIC_USEC=").endsWith("\nSTATUS=reloading");
            notifier.stopping("bye");
            assertThat(systemd.next()).isEqualTo("STOPPING=1\nSTATUS=bye");
        }
    }

    @Test
    void sendsToAnAbstractSocketWrittenWithAt() throws Exception {
        String name = "bufcached-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifySocket systemd = new NotifySocket("\0" + name); Notifier notifier = new Notifier("@" + name)) {
            notifier.status("hello");
            assertThat(systemd.next()).isEqualTo("STATUS=hello");
        }
    }

    @Test
    void watchdogPingsRepeat() throws Exception {
        String path = dir.resolve("notify").toString();
        try (NotifySocket systemd = new NotifySocket(path); Notifier notifier = new Notifier(path)) {
            notifier.startWatchdog(Duration.ofMillis(20));
            assertThat(systemd.next()).isEqualTo("WATCHDOG=1");
            assertThat(systemd.next()).isEqualTo("WATCHDOG=1");
        }
    }

    @Test
    void withoutNotifySocketNothingIsSent() {
        Notifier notifier = Notifier.fromEnvironment(Map.of());
        assertThat(notifier.enabled()).isFalse();
        notifier.ready("nobody listens"); // must not throw
    }

    @Test
    void watchdogIntervalIsHalfOfWatchdogUsecForThisProcess() {
        assertThat(Watchdog.interval(Map.of("WATCHDOG_USEC", "30000000"), 42)).hasValue(Duration.ofSeconds(15));
        assertThat(Watchdog.interval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "42"), 42)).isPresent();
        assertThat(Watchdog.interval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "7"), 42)).isEmpty();
        assertThat(Watchdog.interval(Map.of(), 42)).isEmpty();
    }

    @Test
    void daemonReportsReadyReloadingAndStopping() throws Exception {
        String path = dir.resolve("notify").toString();
        ConfigFile config = new ConfigFile(dir).export("disk");
        try (NotifySocket systemd = new NotifySocket(path)) {
            Daemon daemon = new Daemon(config.write(), new Systemd(new Notifier(path), List.of(), Optional.empty()));
            daemon.start();
            assertThat(systemd.next()).isEqualTo("READY=1\nSTATUS=serving 1 exports on 1 listeners, 0 connections");

            config.export("more").write();
            new Reloader(config.source(), daemon, daemon.systemd().notifier(), daemon.reloadMeters()).reload();
            assertThat(systemd.next()).startsWith("RELOADING=1\n");
            assertThat(systemd.next()).startsWith("READY=1\nSTATUS=serving 2 exports");

            daemon.stop();
            assertThat(systemd.next()).startsWith("STOPPING=1\n");
        }
    }
}
