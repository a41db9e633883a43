package org.bufcached.config;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * A YAML mapping checked against the keys its section allows. Building one
 * reports unknown keys (with the nearest valid key), duplicate keys and keys
 * that are not strings; afterwards a section reads its keys by name. An absent
 * section is an empty map, so defaults flow through the same code as values.
 */
final class YamlMap {
    private final Mark mark;
    private final String path;
    private final Problems problems;
    private final Map<String, YamlValue> values = new LinkedHashMap<>();

    YamlMap(MappingNode node, String path, Problems problems, Collection<String> validKeys) {
        this(node.getStartMark(), path, problems);
        for (NodeTuple tuple : node.getValue()) {
            addEntry(tuple.getKeyNode(), tuple.getValueNode(), validKeys);
        }
    }

    private YamlMap(Mark mark, String path, Problems problems) {
        this.mark = mark;
        this.path = path;
        this.problems = problems;
    }

    /** A section that is not in the document at all. */
    static YamlMap absent(String path, Problems problems) {
        return new YamlMap(null, path, problems);
    }

    /** The value of {@code key}, unless absent or null. */
    Optional<YamlValue> get(String key) {
        return Optional.ofNullable(values.get(key)).filter(value -> !value.isNull());
    }

    /** The converted value of {@code key}; empty when absent or when it did not convert (then recorded). */
    <T> Optional<T> get(String key, ScalarType<T> type) {
        return get(key).flatMap(value -> value.as(type));
    }

    /** Whether the document sets {@code key}, as opposed to leaving it to a default. */
    boolean has(String key) {
        return get(key).isPresent();
    }

    /** The nested map under {@code key}, or an absent one if the key is missing or not a map (then recorded). */
    YamlMap map(String key, Collection<String> validKeys) {
        return get(key).flatMap(value -> value.asMap(validKeys)).orElseGet(() -> absent(childPath(key), problems));
    }

    /** The list under {@code key}; empty when absent. */
    List<YamlValue> list(String key) {
        return get(key).flatMap(YamlValue::asList).orElse(List.of());
    }

    /** The converted value of a key the section cannot do without. */
    <T> Optional<T> require(String key, ScalarType<T> type) {
        if (!has(key)) {
            problem("missing required key '" + key + "'");
        }
        return get(key, type);
    }

    /** Records a problem with the map as a whole. */
    void problem(String message) {
        problems.add(mark, path, message);
    }

    /**
     * Records that {@code message} concerns {@code key}: at its value when the
     * document sets it, else at the map, since a default has no position.
     */
    void problem(String key, String message) {
        Optional<YamlValue> value = get(key);
        if (value.isPresent()) {
            value.get().problem(message);
        } else {
            problems.add(mark, childPath(key), message);
        }
    }

    /**
     * Records a problem unless {@code small <= big}, at the key the document
     * sets (the smaller one if it sets both), naming the values that conflict.
     */
    void requireAtMost(String smallKey, long small, String bigKey, long big) {
        if (small > big) {
            String blamed = has(smallKey) || !has(bigKey) ? smallKey : bigKey;
            problem(blamed, smallKey + " (" + shown(smallKey, small) + ") must not exceed " + bigKey + " ("
                    + shown(bigKey, big) + ")");
        }
    }

    private String shown(String key, long value) {
        return Sizes.format(value) + (has(key) ? "" : ", the default");
    }

    private void addEntry(Node keyNode, Node valueNode, Collection<String> validKeys) {
        if (!(keyNode instanceof ScalarNode)) {
            problems.add(keyNode.getStartMark(), path, "a key must be a plain string");
            return;
        }
        String key = ((ScalarNode) keyNode).getValue();
        String keyPath = childPath(key);
        if (!validKeys.contains(key)) {
            problems.add(keyNode.getStartMark(), keyPath, unknownKey(key, validKeys));
        } else if (values.containsKey(key)) {
            problems.add(keyNode.getStartMark(), keyPath,
                    "duplicate key '" + key + "' (first set at line " + values.get(key).line() + ")");
        } else {
            values.put(key, new YamlValue(valueNode, keyPath, problems));
        }
    }

    private static String unknownKey(String key, Collection<String> validKeys) {
        return "unknown key '" + key + "'" + KeySuggestions.nearest(key, validKeys)
                .map(nearest -> " (did you mean '" + nearest + "'?)")
                .orElseGet(() -> " (valid keys: " + String.join(", ", validKeys) + ")");
    }

    private String childPath(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }
}
