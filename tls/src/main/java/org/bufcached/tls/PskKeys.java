package org.bufcached.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The keys of a PSK file as nbdkit, qemu and GnuTLS's {@code psktool} write it:
 * one {@code username:hexkey} a line. Blank lines are skipped; anything else
 * that is not such a line is an error naming the file and line, so a damaged
 * file is never half used.
 */
public final class PskKeys {
    private final Map<String, byte[]> keys;

    private PskKeys(Map<String, byte[]> keys) {
        this.keys = keys;
    }

    /** Reads {@code file}; the message of the exception names the file and, for a bad line, its number. */
    public static PskKeys read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        Map<String, byte[]> keys = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = file + ":" + (i + 1) + ": ";
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IOException(where + "expected username:hexkey");
            }
            String username = line.substring(0, colon);
            if (keys.containsKey(username)) {
                throw new IOException(where + "username " + username + " appears twice");
            }
            keys.put(username, key(line.substring(colon + 1), where));
        }
        if (keys.isEmpty()) {
            throw new IOException(file + ": no keys (expected lines of username:hexkey)");
        }
        return new PskKeys(Collections.unmodifiableMap(keys));
    }

    /** One key, for a client that takes its username from elsewhere (libnbd's URI user part). */
    public static byte[] keyOf(Path file, String username) throws IOException {
        return read(file).key(username).orElseThrow(() -> new IOException(file + ": username " + username
                + " was not found"));
    }

    private static byte[] key(String hex, String where) throws IOException {
        if (hex.isEmpty() || hex.length() % 2 != 0) {
            throw new IOException(where + "the key must be an even number of hexadecimal digits");
        }
        try {
            return HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new IOException(where + "the key is not hexadecimal");
        }
    }

    /** The key of {@code username}; a copy, so that no caller can change the table. */
    public Optional<byte[]> key(String username) {
        return Optional.ofNullable(keys.get(username)).map(byte[]::clone);
    }

    public Set<String> usernames() {
        return keys.keySet();
    }
}
