package org.bufcached.client.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One scrape of the Prometheus text format: samples by series. Lookups match on
 * name fragments, so the summary survives the daemon adding or renaming a suffix
 * ({@code _total}, {@code _bytes}) without breaking.
 */
final class MetricsSnapshot {
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})?\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** Series name (with labels) to value. */
    private final Map<String, Double> samples = new LinkedHashMap<>();
    /** Label value of each series that has one, by label name. */
    private final Map<String, Map<String, String>> labels = new LinkedHashMap<>();
    private final Map<String, String> names = new LinkedHashMap<>();

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
            String series = s.group(1) + (s.group(2) == null ? "" : s.group(2));
            m.samples.put(series, value);
            m.names.put(series, s.group(1));
            if (s.group(3) != null) {
                Matcher l = LABEL.matcher(s.group(3));
                Map<String, String> ls = new LinkedHashMap<>();
                while (l.find()) {
                    ls.put(l.group(1), l.group(2));
                }
                m.labels.put(series, ls);
            }
        }
        return m;
    }

    /** Sum over series without an export label whose name contains {@code fragment} and none of {@code excluded}. */
    double sum(String fragment, String... excluded) {
        double total = 0;
        for (Map.Entry<String, Double> e : samples.entrySet()) {
            Map<String, String> ls = labels.getOrDefault(e.getKey(), Map.of());
            if (!ls.containsKey("export") && matches(names.get(e.getKey()), fragment, excluded)) {
                total += e.getValue();
            }
        }
        return total;
    }

    /** For each value of {@code label}: metric name to the sum of its series. */
    Map<String, Map<String, Double>> byLabel(String label) {
        Map<String, Map<String, Double>> out = new TreeMap<>();
        for (Map.Entry<String, Double> e : samples.entrySet()) {
            String v = labels.getOrDefault(e.getKey(), Map.of()).get(label);
            if (v != null) {
                out.computeIfAbsent(v, k -> new TreeMap<>()).merge(names.get(e.getKey()), e.getValue(), Double::sum);
            }
        }
        return out;
    }

    /** Sum of the values whose metric name contains {@code fragment} and {@code also}. */
    static double sum(Map<String, Double> byName, String fragment, String also) {
        return byName.entrySet().stream().filter(e -> e.getKey().contains(fragment) && e.getKey().contains(also)
                && !e.getKey().endsWith("_created")).mapToDouble(Map.Entry::getValue).sum();
    }

    private static boolean matches(String name, String fragment, String... excluded) {
        if (!name.contains(fragment) || name.endsWith("_created")) {
            return false;
        }
        String rest = name.replace(fragment, "");
        for (String x : excluded) {
            if (!x.isEmpty() && rest.contains(x)) {
                return false;
            }
        }
        return true;
    }
}
