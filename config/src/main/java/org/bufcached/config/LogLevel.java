package org.bufcached.config;

/** The root log level; named like logback's levels so the daemon can map it by name. */
public enum LogLevel {
    TRACE,
    DEBUG,
    INFO,
    WARN,
    ERROR
}
