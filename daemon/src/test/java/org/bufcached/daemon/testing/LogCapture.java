package org.bufcached.daemon.testing;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Collects what one logger writes while a test runs. */
public final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    public LogCapture(Class<?> source) {
        this(source.getName());
    }

    public LogCapture(String loggerName) {
        this.logger = (Logger) LoggerFactory.getLogger(loggerName);
        appender.start();
        logger.addAppender(appender);
    }

    public List<String> messages() {
        // The appender adds under its own monitor (AppenderBase.doAppend is synchronized), not the list's.
        synchronized (appender) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    /** Waits a little for a line containing {@code text} and returns it: the daemon logs on its own threads. */
    public String awaitLine(String text) throws InterruptedException {
        assertLogged(text);
        return messages().stream().filter(m -> m.contains(text)).findFirst().orElseThrow();
    }

    /** Waits a little for a line containing {@code text}: the daemon logs on its own threads. */
    public void assertLogged(String text) throws InterruptedException {
        long deadline = System.nanoTime() + RawClient.TIMEOUT.toNanos();
        while (System.nanoTime() < deadline && messages().stream().noneMatch(m -> m.contains(text))) {
            Thread.sleep(10);
        }
        assertThat(messages()).as("log lines of %s", logger.getName()).anyMatch(m -> m.contains(text));
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
