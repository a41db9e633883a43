package org.bufcached.client.cli;

import org.bufcached.protocol.BuildInfo;
import picocli.CommandLine;

/** What {@code bufcache --version} prints: the same version and commit as {@code bufcached --version}. */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {BuildInfo.current().describe("bufcache")};
    }
}
