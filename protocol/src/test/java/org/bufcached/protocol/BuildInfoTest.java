package org.bufcached.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BuildInfoTest {
    @Test
    void theBuildStampsVersionAndCommit() {
        BuildInfo build = BuildInfo.current();
        assertThat(build.version()).isNotEqualTo("unknown").doesNotContain("${");
        // A 12-digit commit in a git checkout; "unknown" only when built from a tarball.
        assertThat(build.commit()).matches("[0-9a-f]{12}|unknown");
        assertThat(build.describe("bufcache")).isEqualTo("bufcache " + build.version() + " (commit " + build.commit() + ")");
    }
}
