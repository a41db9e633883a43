package org.bufcached.daemon.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format 0.0.4, written from
 * the format's description rather than with the library that produced the text:
 * every line must be a well-formed HELP, TYPE or sample; every sample must
 * belong to a family declared by a TYPE line before it, with the suffixes its
 * type allows; no series may repeat; histogram buckets must be cumulative and
 * end with {@code le="+Inf"} equal to {@code _count}.
 */
final class PrometheusText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(.*)\\})? (\\S+)( -?[0-9]+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"(,|$)");
    private static final Map<String, Set<String>> SUFFIXES = Map.of(
            "counter", Set.of(""), "gauge", Set.of(""), "untyped", Set.of(""),
            "histogram", Set.of("_bucket", "_sum", "_count"), "summary", Set.of("", "_sum", "_count"));

    /** One sample: metric name, labels (sorted) and value. */
    record Sample(String name, Map<String, String> labels, double value) {
        String series() {
            return name + labels;
        }
    }

    private final Map<String, String> types = new HashMap<>();
    private final Map<String, Sample> samples = new LinkedHashMap<>();

    private PrometheusText() {
    }

    /** Parses {@code text}; throws {@link AssertionError} naming the line at the first violation. */
    static PrometheusText parse(String text) {
        PrometheusText parsed = new PrometheusText();
        String[] lines = text.split("\n", -1);
        if (!lines[lines.length - 1].isEmpty()) {
            throw new AssertionError("the exposition must end with a newline");
        }
        for (int i = 0; i < lines.length - 1; i++) {
            try {
                parsed.line(lines[i]);
            } catch (AssertionError e) {
                throw new AssertionError("line " + (i + 1) + ": " + e.getMessage() + ": " + lines[i], e);
            }
        }
        parsed.checkHistograms();
        return parsed;
    }

    private void line(String line) {
        if (line.startsWith("#")) {
            Matcher type = TYPE.matcher(line);
            if (type.matches()) {
                if (types.put(type.group(1), type.group(2)) != null) {
                    throw new AssertionError("second TYPE for " + type.group(1));
                }
            } else if (!HELP.matcher(line).matches()) {
                throw new AssertionError("malformed comment");
            }
            return;
        }
        Matcher m = SAMPLE.matcher(line);
        if (!m.matches()) {
            throw new AssertionError("malformed sample");
        }
        String name = m.group(1);
        if (family(name) == null) {
            throw new AssertionError("sample without a TYPE line before it");
        }
        Sample sample = new Sample(name, labels(m.group(3)), number(m.group(4)));
        if (samples.put(sample.series(), sample) != null) {
            throw new AssertionError("duplicate series " + sample.series());
        }
    }

    /** The declared family a sample name belongs to, or null. */
    private String family(String name) {
        for (Map.Entry<String, String> type : types.entrySet()) {
            for (String suffix : SUFFIXES.get(type.getValue())) {
                if (name.equals(type.getKey() + suffix)) {
                    return type.getKey();
                }
            }
        }
        return null;
    }

    private static Map<String, String> labels(String text) {
        Map<String, String> labels = new TreeMap<>();
        if (text == null || text.isEmpty()) {
            return labels;
        }
        Matcher m = LABEL.matcher(text);
        int at = 0;
        while (at < text.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new AssertionError("malformed labels at '" + text.substring(at) + "'");
            }
            if (labels.put(m.group(1), m.group(2)) != null) {
                throw new AssertionError("label " + m.group(1) + " twice");
            }
            at = m.end();
        }
        return labels;
    }

    private static double number(String text) {
        switch (text) {
            case "+Inf":
                return Double.POSITIVE_INFINITY;
            case "-Inf":
                return Double.NEGATIVE_INFINITY;
            case "NaN":
                return Double.NaN;
            default:
                if (!text.matches("-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?")) {
                    throw new AssertionError("malformed value " + text);
                }
                return Double.parseDouble(text);
        }
    }

    private void checkHistograms() {
        for (Sample count : samples.values()) {
            String family = count.name().endsWith("_count") ? family(count.name()) : null;
            if (family == null || !types.get(family).equals("histogram")) {
                continue;
            }
            List<Sample> buckets = new ArrayList<>();
            for (Sample s : samples.values()) {
                Map<String, String> others = new TreeMap<>(s.labels());
                if (s.name().equals(family + "_bucket") && others.remove("le") != null && others.equals(count.labels())) {
                    buckets.add(s);
                }
            }
            buckets.sort((a, b) -> Double.compare(number(a.labels().get("le")), number(b.labels().get("le"))));
            if (buckets.isEmpty() || !buckets.get(buckets.size() - 1).labels().get("le").equals("+Inf")) {
                throw new AssertionError(count.series() + ": no le=\"+Inf\" bucket");
            }
            for (int i = 1; i < buckets.size(); i++) {
                if (buckets.get(i).value() < buckets.get(i - 1).value()) {
                    throw new AssertionError(buckets.get(i).series() + ": buckets are not cumulative");
                }
            }
            if (buckets.get(buckets.size() - 1).value() != count.value()) {
                throw new AssertionError(count.series() + ": +Inf bucket differs from the count");
            }
        }
    }

    String type(String family) {
        return types.get(family);
    }

    /** The value of the series {@code name} with exactly {@code labels} (name, value pairs), or null. */
    Double value(String name, String... labels) {
        Map<String, String> wanted = new TreeMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            wanted.put(labels[i], labels[i + 1]);
        }
        Sample s = samples.get(name + wanted);
        return s == null ? null : s.value();
    }

    /** The value of a series, 0 when it is absent (meters created on first use). */
    double valueOrZero(String name, String... labels) {
        Double v = value(name, labels);
        return v == null ? 0 : v;
    }
}
