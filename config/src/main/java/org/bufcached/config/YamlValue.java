package org.bufcached.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A YAML node together with its key path, so that whatever goes wrong with it
 * can be reported where it is. Conversions record a problem and return empty
 * rather than throw, which lets one parse find every problem in a file.
 */
final class YamlValue {
    private final Node node;
    private final String path;
    private final Problems problems;

    YamlValue(Node node, String path, Problems problems) {
        this.node = node;
        this.path = path;
        this.problems = problems;
    }

    String path() {
        return path;
    }

    /** 1-based line, for messages that point back at an earlier definition. */
    int line() {
        return node.getStartMark().getLine() + 1;
    }

    /** {@code key:} with no value, or {@code ~}: treated as if the key were absent. */
    boolean isNull() {
        return node instanceof ScalarNode && node.getTag().equals(Tag.NULL);
    }

    void problem(String message) {
        problems.add(node.getStartMark(), path, message);
    }

    /** The scalar converted by {@code type}, or empty after recording why it cannot be. */
    <T> Optional<T> as(ScalarType<T> type) {
        if (!(node instanceof ScalarNode)) {
            return mismatch(type.description());
        }
        try {
            return Optional.of(type.parser().apply(((ScalarNode) node).getValue()));
        } catch (IllegalArgumentException e) {
            problem(e.getMessage());
            return Optional.empty();
        }
    }

    /** This node as a map that may only hold {@code validKeys}. */
    Optional<YamlMap> asMap(Collection<String> validKeys) {
        if (!(node instanceof MappingNode)) {
            return mismatch("a map");
        }
        return Optional.of(new YamlMap((MappingNode) node, path, problems, validKeys));
    }

    boolean isMap() {
        return node instanceof MappingNode;
    }

    /** This node's items, each with its {@code path[i]}. */
    Optional<List<YamlValue>> asList() {
        if (!(node instanceof SequenceNode)) {
            return mismatch("a list");
        }
        List<Node> items = ((SequenceNode) node).getValue();
        List<YamlValue> values = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            values.add(new YamlValue(items.get(i), path + "[" + i + "]", problems));
        }
        return Optional.of(values);
    }

    /** The items of a list that are all of one scalar type; items that do not convert are left out. */
    <T> List<T> asListOf(ScalarType<T> type) {
        List<T> values = new ArrayList<>();
        asList().ifPresent(items -> items.forEach(item -> item.as(type).ifPresent(values::add)));
        return values;
    }

    private <T> Optional<T> mismatch(String expected) {
        problem("expected " + expected + ", got " + kind());
        return Optional.empty();
    }

    private String kind() {
        if (node instanceof MappingNode) {
            return "a map";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        return "\"" + ((ScalarNode) node).getValue() + "\"";
    }
}
