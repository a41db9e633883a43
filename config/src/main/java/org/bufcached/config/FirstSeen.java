package org.bufcached.config;

import java.util.HashMap;
import java.util.Map;

/**
 * Detects values that must be unique across a list (export names, backing
 * files, listen addresses) and reports a repeat at the repeat, pointing back
 * at the first occurrence.
 */
final class FirstSeen<K> {
    private final Map<K, YamlValue> first = new HashMap<>();

    /** Remembers {@code key} as defined at {@code at}, or records {@code message} there if it was seen before. */
    void check(K key, YamlValue at, String message) {
        YamlValue earlier = first.putIfAbsent(key, at);
        if (earlier != null) {
            at.problem(message + " (first at " + earlier.path() + ", line " + earlier.line() + ")");
        }
    }
}
