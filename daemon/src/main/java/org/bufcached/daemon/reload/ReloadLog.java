package org.bufcached.daemon.reload;

import org.bufcached.config.ConfigDiff;
import org.bufcached.config.ExportConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The log lines of an applied reload: one per change, saying which ones wait for a restart. */
final class ReloadLog {
    private static final Logger LOG = LoggerFactory.getLogger(Reloader.class);

    private ReloadLog() {
    }

    static void applied(ConfigDiff diff) {
        for (ExportConfig e : diff.exportsAdded()) {
            LOG.info("reload: export {} added", e.name());
        }
        for (ExportConfig e : diff.exportsRemoved()) {
            LOG.info("reload: export {} removed", e.name());
        }
        for (ConfigDiff.ExportChange c : diff.exportsChanged()) {
            LOG.info("reload: export {} replaced ({} changed); its connections were closed", c.after().name(),
                    String.join(", ", c.keys()));
        }
        for (ConfigDiff.SettingChange c : diff.live()) {
            LOG.info("reload: {} changed from {} to {}", c.key(), c.before(), c.after());
        }
        for (ConfigDiff.SettingChange c : diff.restart()) {
            LOG.warn("reload: {} changed from {} to {}, which takes effect only after a restart", c.key(), c.before(),
                    c.after());
        }
    }
}
