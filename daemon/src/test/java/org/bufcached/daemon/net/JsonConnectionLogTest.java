package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bufcached.config.LogFormat;
import org.bufcached.config.LogLevel;
import org.bufcached.config.LoggingConfig;
import org.bufcached.daemon.logging.Logging;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code logging.format: json}: every line one JSON object, connection lines with their fields. */
class JsonConnectionLogTest {
    private final PrintStream realErr = System.err;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    @AfterEach
    void restore() {
        System.setErr(realErr);
        Logging.configure(new LoggingConfig(LogLevel.INFO,
                Optional.of(Path.of(Logging.class.getResource("/logback.xml").getPath()))));
    }

    @Test
    void connectionLinesCarryConnectionPeerExportAndEventAsFields(@TempDir Path dir) throws Exception {
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        Logging.configure(new LoggingConfig(LogLevel.INFO, LogFormat.JSON, Optional.empty()));
        try (TestDaemon nbd = TestDaemon.start(dir)) {
            try (RawClient c = nbd.open(TestDaemon.DISK)) {
                c.write(0, new byte[512]).assertOk();
            }
            JsonNode closed = awaitLine("closed");
            assertThat(closed.get("conn").isNumber()).isTrue();
            assertThat(closed.get("peer").asText()).startsWith("unix:pid=");
            assertThat(closed.get("export").asText()).isEqualTo("disk");
            assertThat(closed.get("requests").asLong()).isEqualTo(1);
            assertThat(closed.get("bytes_in").asLong()).isGreaterThan(512);
            assertThat(closed.get("message").asText()).startsWith("connection closed conn=");
            assertThat(closed.get("level").asText()).isEqualTo("INFO");
            JsonNode opened = lines().stream().filter(l -> "opened".equals(l.path("event").asText())).findFirst()
                    .orElseThrow();
            assertThat(opened.get("conn")).isEqualTo(closed.get("conn"));
            assertThat(opened.get("export").asText()).isEqualTo("disk");
        }
        assertThat(lines()).as("every line is a JSON object").allMatch(JsonNode::isObject);
    }

    /** Waits for the connection line of {@code event}; the daemon logs on its own threads. */
    private JsonNode awaitLine(String event) throws Exception {
        long deadline = System.nanoTime() + RawClient.TIMEOUT.toNanos();
        while (true) {
            for (JsonNode line : lines()) {
                if (event.equals(line.path("event").asText())) {
                    return line;
                }
            }
            assertThat(System.nanoTime()).as("a JSON line with event=%s in:%n%s", event, text()).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private List<JsonNode> lines() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : text().split("\n")) {
            if (!line.isBlank()) {
                lines.add(json.readTree(line));
            }
        }
        return lines;
    }

    private String text() {
        synchronized (captured) {
            return captured.toString(StandardCharsets.UTF_8);
        }
    }
}
