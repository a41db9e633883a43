package org.bufcached.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The READMEs' links work inside the repository: every relative link names a
 * file or folder that exists, and every {@code #anchor} a heading of the page
 * it points into (GitHub's anchor rules: lower case, spaces to dashes,
 * punctuation dropped).
 */
class DocumentationLinksTest {
    private static final Path ROOT = Path.of(System.getProperty("basedir", "."), "..").normalize();
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("(?m)^#{1,6} (.+)$");

    @ParameterizedTest
    @ValueSource(strings = {"README.md", "client/README.md", "bench/README.md"})
    void relativeLinksAndAnchorsResolve(String page) throws IOException {
        Path file = ROOT.resolve(page);
        if (!Files.exists(file)) {
            return; // a page that is not in this checkout has no links to check
        }
        String text = Files.readString(file);
        List<String> broken = new ArrayList<>();
        Matcher m = LINK.matcher(text);
        while (m.find()) {
            String target = m.group(1);
            if (target.matches("[a-z]+://.*") || target.startsWith("mailto:")) {
                continue;
            }
            String pathPart = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
            String anchor = target.contains("#") ? target.substring(target.indexOf('#') + 1) : null;
            Path linked = pathPart.isEmpty() ? file : file.getParent().resolve(pathPart).normalize();
            if (!linked.startsWith(ROOT) || !Files.exists(linked)) {
                broken.add(target + " (no such file in the repository)");
            } else if (anchor != null && !anchors(linked).contains(anchor)) {
                broken.add(target + " (no such heading)");
            }
        }
        assertThat(broken).as("broken links in %s", page).isEmpty();
    }

    private static Set<String> anchors(Path page) throws IOException {
        Set<String> anchors = new HashSet<>();
        Matcher h = HEADING.matcher(Files.readString(page));
        while (h.find()) {
            anchors.add(h.group(1).strip().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "")
                    .replace(' ', '-'));
        }
        return anchors;
    }
}
