package org.bufcached.daemon.reload;

import org.bufcached.config.BufcachedConfig;
import org.bufcached.config.ConfigException;

/** Where a reload reads the configuration: the same file as at startup, with the same command-line overrides. */
@FunctionalInterface
public interface ConfigSource {
    /**
     * @throws ConfigException          for problems in the file
     * @throws IllegalArgumentException for command-line overrides that conflict with it
     */
    BufcachedConfig load() throws ConfigException;
}
