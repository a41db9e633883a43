package org.bufcached.daemon.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.util.StatusPrinter2;
import java.net.URL;
import java.nio.file.Path;
import org.bufcached.config.LogFormat;
import org.bufcached.config.LogLevel;
import org.bufcached.config.LoggingConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the {@code logging} section to Logback: the root level over the
 * shipped text set-up (logback.xml) or the JSON one (logback-json.xml), or a
 * logback.xml of the operator's that replaces the shipped one entirely (its own
 * levels and format included).
 */
public final class Logging {
    private Logging() {
    }

    /**
     * Configures logging at startup.
     *
     * @throws IllegalArgumentException naming the file, when {@code logging.path} cannot be used
     */
    public static void configure(LoggingConfig config) {
        if (config.path().isPresent()) {
            Path file = config.path().get();
            replaceConfiguration(configurator -> configurator.doConfigure(file.toFile()), file.toString());
        } else {
            if (config.format() == LogFormat.JSON) {
                URL json = Logging.class.getResource("/logback-json.xml");
                replaceConfiguration(configurator -> configurator.doConfigure(json), "logback-json.xml");
            }
            level(config.level());
        }
    }

    /** Sets the root level: {@code logging.level} changes take effect on reload. */
    public static void level(LogLevel level) {
        rootLogger().setLevel(Level.toLevel(level.name()));
    }

    /** One way of feeding Joran a configuration: a file or a resource. */
    private interface Source {
        void feed(JoranConfigurator configurator) throws JoranException;
    }

    private static void replaceConfiguration(Source source, String name) {
        LoggerContext context = context();
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
            source.feed(configurator);
        } catch (JoranException e) {
            throw new IllegalArgumentException(name + ": logging.path: not a usable logback configuration: "
                    + e.getMessage(), e);
        }
        // Logback keeps going past most mistakes; show them rather than lose log lines silently.
        new StatusPrinter2().printInCaseOfErrorsOrWarnings(context);
    }

    private static ch.qos.logback.classic.Logger rootLogger() {
        return context().getLogger(Logger.ROOT_LOGGER_NAME);
    }

    private static LoggerContext context() {
        return (LoggerContext) LoggerFactory.getILoggerFactory();
    }
}
