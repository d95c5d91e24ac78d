package io.vqrae.pipeline.testing;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.core.layout.PatternLayout;

/**
 * Everything this JVM logs from {@link #install} to {@link #close} at {@code level} and above, exceptions with
 * their whole stack trace and causes, as text: what a test greps for what must never be logged. The
 * appenders already configured keep their output as it was.
 */
public final class LogCapture implements AutoCloseable {
    private final StringBuffer text = new StringBuffer();
    private final LoggerContext context;
    private final Appender appender;
    private final Level previousRootLevel;

    private LogCapture(Level level) {
        context = (LoggerContext) LogManager.getContext(false);
        Configuration configuration = context.getConfiguration();
        PatternLayout layout = PatternLayout.newBuilder()
                .withConfiguration(configuration)
                .withPattern("%d{HH:mm:ss.SSS} %-5level %c - %msg%n%throwable{full}")
                .build();
        appender = new AbstractAppender("vqrae-log-capture", null, layout, false, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                text.append(getLayout().toSerializable(event));
            }
        };
        appender.start();
        LoggerConfig root = configuration.getRootLogger();
        previousRootLevel = root.getLevel();
        // The existing appenders get the events they got before; only the capture sees the finer ones.
        for (Appender existing : root.getAppenders().values()) {
            root.removeAppender(existing.getName());
            root.addAppender(existing, previousRootLevel, null);
        }
        root.addAppender(appender, level, null);
        root.setLevel(level);
        context.updateLoggers();
    }

    /** Starts capturing every logger's events at {@code level} and above. */
    public static LogCapture install(Level level) {
        return new LogCapture(level);
    }

    /** What was logged so far. */
    public String text() {
        return text.toString();
    }

    @Override
    public void close() {
        LoggerConfig root = context.getConfiguration().getRootLogger();
        root.removeAppender(appender.getName());
        root.setLevel(previousRootLevel);
        context.updateLoggers();
        appender.stop();
    }
}
