package org.bufcached.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PskKeysTest {
    @TempDir
    Path dir;

    private Path file(String text) throws IOException {
        return Files.writeString(dir.resolve("keys.psk"), text);
    }

    @Test
    void readsPsktoolLinesAndSkipsBlankOnes() throws IOException {
        PskKeys keys = PskKeys.read(file("alice:00ff10\n\nbob:DEADbeef\r\n"));
        assertThat(keys.usernames()).containsExactly("alice", "bob");
        assertThat(keys.key("alice")).hasValueSatisfying(k -> assertThat(k).containsExactly(0x00, 0xff, 0x10));
        assertThat(keys.key("bob")).hasValueSatisfying(k -> assertThat(k).containsExactly(0xde, 0xad, 0xbe, 0xef));
        assertThat(keys.key("carol")).isEmpty();
        assertThat(PskKeys.keyOf(file("alice:0102\n"), "alice")).containsExactly(1, 2);
    }

    @Test
    void aKeyHandedOutCannotChangeTheTable() throws IOException {
        PskKeys keys = PskKeys.read(file("alice:0102\n"));
        keys.key("alice").orElseThrow()[0] = 9;
        assertThat(keys.key("alice").orElseThrow()).containsExactly(1, 2);
    }

    @Test
    void everyBadLineIsNamedWithItsNumber() throws IOException {
        assertThatThrownBy(() -> PskKeys.read(file("alice:0102\nbob\n"))).hasMessage(dir.resolve("keys.psk")
                + ":2: expected username:hexkey");
        assertThatThrownBy(() -> PskKeys.read(file(":0102\n"))).hasMessageEndingWith(":1: expected username:hexkey");
        assertThatThrownBy(() -> PskKeys.read(file("alice:010\n")))
                .hasMessageEndingWith(":1: the key must be an even number of hexadecimal digits");
        assertThatThrownBy(() -> PskKeys.read(file("alice:\n")))
                .hasMessageEndingWith(":1: the key must be an even number of hexadecimal digits");
        assertThatThrownBy(() -> PskKeys.read(file("alice:zz\n"))).hasMessageEndingWith(":1: the key is not hexadecimal");
        assertThatThrownBy(() -> PskKeys.read(file("alice:01\nalice:02\n")))
                .hasMessageEndingWith(":2: username alice appears twice");
        assertThatThrownBy(() -> PskKeys.read(file("\n\n"))).hasMessageEndingWith(
                "no keys (expected lines of username:hexkey)");
        assertThatThrownBy(() -> PskKeys.keyOf(file("alice:01\n"), "bob")).hasMessageEndingWith(
                ": username bob was not found");
    }
}
