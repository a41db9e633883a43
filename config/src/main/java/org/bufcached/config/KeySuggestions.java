package org.bufcached.config;

import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/**
 * Finds the valid key an operator most likely meant when writing an unknown
 * one, by Levenshtein distance. A suggestion is only made when it is close
 * enough to be a typo; otherwise a far-fetched "did you mean" misleads.
 */
final class KeySuggestions {
    private KeySuggestions() {
    }

    static Optional<String> nearest(String key, Collection<String> validKeys) {
        int tolerance = Math.max(2, key.length() / 3);
        return validKeys.stream()
                .min(Comparator.comparingInt(valid -> distance(key, valid)))
                .filter(valid -> distance(key, valid) <= tolerance);
    }

    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
