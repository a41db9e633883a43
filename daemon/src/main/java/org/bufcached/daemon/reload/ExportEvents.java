package org.bufcached.daemon.reload;

import org.bufcached.daemon.export.Export;

/** Told when an export starts or stops taking connections: the per-export metrics follow the registry. */
public interface ExportEvents {
    ExportEvents NONE = new ExportEvents() {
        @Override
        public void add(Export export) {
        }

        @Override
        public void remove(String name) {
        }
    };

    /** An export takes connections; one of the same name is replaced. */
    void add(Export export);

    /** The export of that name is gone. */
    void remove(String name);
}
