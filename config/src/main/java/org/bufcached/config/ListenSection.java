package org.bufcached.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code listen}: {@code tcp} is a list of {@code host:port}
 * (default {@code 127.0.0.1:10809}; {@code tcp: []} turns TCP off), {@code unix}
 * a list of socket paths, each either a plain path or a map with {@code path},
 * {@code mode} and {@code owner}.
 */
final class ListenSection {
    static final List<String> KEYS = List.of("tcp", "unix");
    static final List<String> UNIX_KEYS = List.of("path", "mode", "owner");
    static final HostPort DEFAULT_TCP = new HostPort("127.0.0.1", 10809);

    private static final ScalarType<Integer> MODE = new ScalarType<>("an octal mode such as \"0660\"", text -> {
        if (!text.strip().matches("[0-7]{3,4}")) {
            throw new IllegalArgumentException("expected an octal mode such as \"0660\", got \"" + text + "\"");
        }
        return Integer.parseInt(text.strip(), 8);
    });
    private static final String NAME = "([A-Za-z0-9_.][A-Za-z0-9_.-]*)";
    private static final Pattern OWNER = Pattern.compile(NAME + "?(?::" + NAME + ")?");

    private ListenSection() {
    }

    /** Reports an empty listener set only if no entry was rejected, since a rejected entry explains it. */
    static ListenConfig parse(YamlMap map, Path base, Problems problems) {
        int problemsBefore = problems.count();
        List<HostPort> tcp = map.has("tcp") ? tcp(map.list("tcp")) : List.of(DEFAULT_TCP);
        List<ListenUnix> unix = unix(map.list("unix"), base);
        if (tcp.isEmpty() && unix.isEmpty() && problems.count() == problemsBefore) {
            map.problem("no listen address: configure at least one tcp or unix entry");
        }
        return new ListenConfig(tcp, unix);
    }

    private static List<HostPort> tcp(List<YamlValue> items) {
        FirstSeen<HostPort> seen = new FirstSeen<>();
        List<HostPort> addresses = new ArrayList<>();
        for (YamlValue item : items) {
            item.as(ScalarType.HOST_PORT).ifPresent(address -> {
                seen.check(address, item, "listen address " + address + " is repeated");
                addresses.add(address);
            });
        }
        return addresses;
    }

    private static List<ListenUnix> unix(List<YamlValue> items, Path base) {
        FirstSeen<Path> seen = new FirstSeen<>();
        List<ListenUnix> sockets = new ArrayList<>();
        for (YamlValue item : items) {
            Optional<ListenUnix> socket = item.isMap()
                    ? item.asMap(UNIX_KEYS).flatMap(map -> socket(map, base))
                    : item.as(ScalarType.path(base)).map(path -> new ListenUnix(path, OptionalInt.empty(),
                            Optional.empty(), Optional.empty()));
            socket.ifPresent(unix -> {
                seen.check(unix.path(), item, "unix socket " + unix.path() + " is repeated");
                sockets.add(unix);
            });
        }
        return sockets;
    }

    /** One socket from a map with {@code path}, {@code mode} and {@code owner}. */
    static Optional<ListenUnix> socket(YamlMap map, Path base) {
        Optional<Integer> mode = map.get("mode", MODE);
        Optional<Matcher> owner = map.get("owner", ScalarType.STRING).flatMap(text -> owner(map, text));
        return map.require("path", ScalarType.path(base)).map(path -> new ListenUnix(path,
                mode.map(OptionalInt::of).orElse(OptionalInt.empty()),
                owner.map(match -> match.group(1)), owner.map(match -> match.group(2))));
    }

    /** {@code user}, {@code user:group} or {@code :group}, as chown(1) writes it. */
    private static Optional<Matcher> owner(YamlMap map, String text) {
        Matcher matcher = OWNER.matcher(text.strip());
        if (text.isBlank() || !matcher.matches()) {
            map.problem("owner", "expected an owner such as \"nbd\" or \"nbd:disk\", got \"" + text + "\"");
            return Optional.empty();
        }
        return Optional.of(matcher);
    }
}
