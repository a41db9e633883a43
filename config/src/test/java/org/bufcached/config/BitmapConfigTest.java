package org.bufcached.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.config.Yamls.at;
import static org.bufcached.config.Yamls.parse;
import static org.bufcached.config.Yamls.problems;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** {@code exports[].bitmaps} and {@code admin}: good values, defaults, and every problem at its line. */
class BitmapConfigTest {

    @Test
    void bitmapsAreNamesOrMapsWithTheDefaultGranularity() {
        BufcachedConfig config = parse("exports:\n  - name: a\n    path: /a.img\n    bitmaps:\n      - daily\n"
                + "      - name: hourly\n        granularity: 1MiB\n");
        assertThat(config.exports().get(0).bitmaps()).containsExactly(new BitmapConfig("daily", 65536),
                new BitmapConfig("hourly", 1 << 20));
    }

    @Test
    void badBitmapsAreReportedAtTheirLine() {
        String yaml = "exports:\n"
                + "  - name: a\n"
                + "    path: /a.img\n"
                + "    bitmaps:\n"
                + "      - name: x\n"
                + "        granularty: 4K\n"
                + "      - name: y\n"
                + "        granularity: 3000\n"
                + "      - .hidden\n"
                + "      - x\n"
                + "  - name: b\n"
                + "    path: /b.img\n"
                + "    readonly: true\n"
                + "    bitmaps: [z]\n";
        assertThat(problems(yaml)).containsExactly(
                at(6, 9, "exports[0].bitmaps[0].granularty", "unknown key 'granularty' (did you mean 'granularity'?)"),
                at(8, 22, "exports[0].bitmaps[1].granularity",
                        "must be a power of two from 512 to 1GiB, got 3000"),
                at(9, 9, "exports[0].bitmaps[2]", "bitmap name \".hidden\" "
                        + "must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"),
                at(10, 9, "exports[0].bitmaps[3]", "bitmap name 'x' is already used in this export "
                        + "(first at exports[0].bitmaps[0], line 5)"),
                at(14, 14, "exports[1].bitmaps", "a read-only export never changes, so a dirty bitmap would stay "
                        + "empty: remove bitmaps or readonly"));
    }

    @Test
    void theAdminSocketIsOffUnlessConfiguredAnd0600ByDefault() {
        assertThat(parse("").admin()).isEqualTo(AdminConfig.OFF);
        assertThat(parse("admin:\n  path: /run/x/admin.sock\n").admin()).isEqualTo(new AdminConfig(Optional.of(
                new ListenUnix(Path.of("/run/x/admin.sock"), OptionalInt.of(0600), Optional.empty(),
                        Optional.empty()))));
        assertThat(parse("admin:\n  path: /a.sock\n  mode: \"0660\"\n  owner: :adm\n").admin().socket().orElseThrow())
                .isEqualTo(new ListenUnix(Path.of("/a.sock"), OptionalInt.of(0660), Optional.empty(),
                        Optional.of("adm")));
        assertThat(problems("admin:\n  pth: /a.sock\n")).isEqualTo(List.of(
                at(2, 3, "admin.pth", "unknown key 'pth' (did you mean 'path'?)")));
        assertThat(problems("admin:\n  mode: \"0600\"\n")).isEqualTo(List.of(
                at(2, 3, "admin", "missing required key 'path'")));
    }

    @Test
    void changedBitmapsApplyLiveOnReload() {
        BufcachedConfig before = parse("exports:\n  - name: a\n    path: /a.img\n");
        BufcachedConfig after = parse("exports:\n  - name: a\n    path: /a.img\n    bitmaps: [b]\n");
        ConfigDiff diff = ConfigDiff.between(before, after);
        assertThat(diff.exportsChanged()).isEmpty();
        assertThat(diff.live()).containsExactly(new ConfigDiff.SettingChange("exports[a].bitmaps", "[]",
                "[b:64KiB]"));
    }
}
