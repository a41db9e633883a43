package org.bufcached.daemon.export;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The exports that new connections can choose from. Lookups happen on event loops
 * during handshakes; changes (start, reload) publish a new immutable map, so a
 * lookup never takes a lock.
 */
public final class ExportRegistry {
    private volatile Map<String, Export> exports = Map.of();

    /** The export of that name, or null. The empty name is the default export: the first one. */
    public Export find(String name) {
        Map<String, Export> current = exports;
        if (name.isEmpty()) {
            return current.isEmpty() ? null : current.values().iterator().next();
        }
        return current.get(name);
    }

    /** The exports in the order they were added. */
    public Collection<Export> all() {
        return exports.values();
    }

    public synchronized void add(Export export) {
        Map<String, Export> next = new LinkedHashMap<>(exports);
        if (next.putIfAbsent(export.name(), export) != null) {
            throw new IllegalArgumentException("duplicate export name: " + export.name());
        }
        exports = Collections.unmodifiableMap(next);
    }

    /**
     * Puts {@code export} in the place of the one of the same name, atomically:
     * new handshakes never see the name missing, and the order (which decides the
     * default export) is kept. Returns the export replaced.
     */
    public synchronized Export replace(Export export) {
        Map<String, Export> next = new LinkedHashMap<>(exports);
        Export old = next.replace(export.name(), export);
        if (old == null) {
            throw new IllegalArgumentException("no export named " + export.name() + " to replace");
        }
        exports = Collections.unmodifiableMap(next);
        return old;
    }

    /** Removes the export from new handshakes; open connections keep their reference. */
    public synchronized Export remove(String name) {
        Map<String, Export> next = new LinkedHashMap<>(exports);
        Export removed = next.remove(name);
        exports = Collections.unmodifiableMap(next);
        return removed;
    }

    public List<Export> snapshot() {
        return new ArrayList<>(exports.values());
    }
}
