package org.bufcached.daemon.net;

import java.util.List;
import org.bufcached.protocol.Nbd;

/**
 * Matching of metadata context queries against the one context this server has,
 * base:allocation, as the spec's base: namespace rules say.
 */
final class MetaContexts {
    private MetaContexts() {
    }

    /** NBD_OPT_LIST_META_CONTEXT: no query lists everything; "base:" is a wildcard. */
    static boolean lists(List<String> queries) {
        if (queries.isEmpty()) {
            return true;
        }
        for (String q : queries) {
            if (q.equals("base:") || q.equals(Nbd.BASE_ALLOCATION)) {
                return true;
            }
        }
        return false;
    }

    /** NBD_OPT_SET_META_CONTEXT: only the exact name selects; "base:" is ignored. */
    static boolean selects(List<String> queries) {
        return queries.contains(Nbd.BASE_ALLOCATION);
    }
}
