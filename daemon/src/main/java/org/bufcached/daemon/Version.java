package org.bufcached.daemon;

import org.bufcached.protocol.BuildInfo;
import picocli.CommandLine;

/** What {@code bufcached --version} prints: the same version and commit as {@code bufcache --version}. */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {BuildInfo.current().describe("bufcached")};
    }
}
