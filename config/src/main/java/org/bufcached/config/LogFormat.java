package org.bufcached.config;

/** How log lines are written: {@code text} for people, {@code json} (one object per line) for log pipelines. */
public enum LogFormat {
    TEXT,
    JSON;

    /** The spelling in YAML: lower case. */
    public String yamlName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
