package org.bufcached.client.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One scrape of the Prometheus text format: the samples, each with its name and labels. */
final class MetricsSnapshot {
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})?\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private record Sample(String name, Map<String, String> labels, double value) {
    }

    private final List<Sample> samples = new ArrayList<>();

    static MetricsSnapshot parse(String text) {
        MetricsSnapshot m = new MetricsSnapshot();
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            Matcher s = SAMPLE.matcher(line);
            if (!s.find()) {
                continue;
            }
            double value;
            try {
                value = Double.parseDouble(s.group(4));
            } catch (NumberFormatException e) {
                continue;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (s.group(3) != null) {
                Matcher l = LABEL.matcher(s.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            m.samples.add(new Sample(s.group(1), labels, value));
        }
        return m;
    }

    /** Whether the scrape has the metric at all. */
    boolean has(String name) {
        return samples.stream().anyMatch(s -> s.name().equals(name));
    }

    /**
     * The sum of the samples of metric {@code name} whose labels include every
     * pair of {@code labelPairs} (name, value, name, value...).
     */
    double sum(String name, String... labelPairs) {
        double total = 0;
        for (Sample s : samples) {
            if (s.name().equals(name) && matches(s.labels(), labelPairs)) {
                total += s.value();
            }
        }
        return total;
    }

    /** The values label {@code label} takes on metric {@code name}, sorted. */
    List<String> labelValues(String name, String label) {
        TreeSet<String> values = new TreeSet<>();
        for (Sample s : samples) {
            if (s.name().equals(name) && s.labels().containsKey(label)) {
                values.add(s.labels().get(label));
            }
        }
        return new ArrayList<>(values);
    }

    private static boolean matches(Map<String, String> labels, String... pairs) {
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            if (!pairs[i + 1].equals(labels.get(pairs[i]))) {
                return false;
            }
        }
        return true;
    }
}
