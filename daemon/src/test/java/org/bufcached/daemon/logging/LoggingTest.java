package org.bufcached.daemon.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.bufcached.config.LogLevel;
import org.bufcached.config.LoggingConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code logging.level} and {@code logging.path} applied to Logback. */
class LoggingTest {
    private static final Logger LOG = LoggerFactory.getLogger(LoggingTest.class);

    @AfterEach
    void restoreShippedConfiguration() {
        // Put the shipped logback.xml back for the tests that follow in this JVM.
        Logging.configure(new LoggingConfig(LogLevel.INFO,
                Optional.of(Path.of(Logging.class.getResource("/logback.xml").getPath()))));
        Logging.level(LogLevel.INFO);
    }

    @Test
    void levelChangesTheRootLevel() {
        Logging.configure(new LoggingConfig(LogLevel.WARN, Optional.empty()));
        assertThat(LOG.isInfoEnabled()).isFalse();
        assertThat(LOG.isWarnEnabled()).isTrue();
        Logging.level(LogLevel.DEBUG);
        assertThat(LOG.isDebugEnabled()).isTrue();
    }

    @Test
    void pathReplacesTheShippedConfiguration(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("out.log");
        Path xml = dir.resolve("logback.xml");
        Files.writeString(xml, "<configuration>\n"
                + "  <appender name=\"FILE\" class=\"ch.qos.logback.core.FileAppender\">\n"
                + "    <file>" + log + "</file>\n"
                + "    <encoder><pattern>custom %level %msg%n</pattern></encoder>\n"
                + "  </appender>\n"
                + "  <root level=\"DEBUG\"><appender-ref ref=\"FILE\"/></root>\n"
                + "</configuration>\n");
        Logging.configure(new LoggingConfig(LogLevel.ERROR, Optional.of(xml)));
        LOG.debug("hello from the operator's configuration");
        assertThat(Files.readString(log)).contains("custom DEBUG hello from the operator's configuration");
    }

    @Test
    void anUnusableFileIsAConfigurationError(@TempDir Path dir) throws Exception {
        Path xml = dir.resolve("broken.xml");
        Files.writeString(xml, "<configuration><root level=");
        assertThatThrownBy(() -> Logging.configure(new LoggingConfig(LogLevel.INFO, Optional.of(xml))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(xml.toString())
                .hasMessageContaining("logging.path");
    }
}
