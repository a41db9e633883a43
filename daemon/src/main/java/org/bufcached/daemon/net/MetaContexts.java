package org.bufcached.daemon.net;

import java.util.ArrayList;
import java.util.List;
import org.bufcached.daemon.bitmap.DirtyBitmap;
import org.bufcached.daemon.bitmap.ExportBitmaps;
import org.bufcached.protocol.Nbd;

/**
 * The metadata contexts of an export and the matching of queries against them:
 * {@code base:allocation}, as the spec's {@code base:} namespace rules say, and
 * one {@code qemu:dirty-bitmap:NAME} per dirty bitmap, as qemu's
 * docs/interop/nbd.rst defines them (flag 1, NBD_STATE_DIRTY, for dirty extents;
 * the queries {@code qemu:} and {@code qemu:dirty-bitmap:} list all of them).
 */
final class MetaContexts {
    static final String DIRTY_BITMAP = "qemu:dirty-bitmap:";
    /** The ids handed out by NBD_OPT_SET_META_CONTEXT: opaque to clients, fixed here for readability. */
    static final int ALLOCATION_ID = 1;
    private static final int FIRST_BITMAP_ID = 2;

    private MetaContexts() {
    }

    /** What one NBD_OPT_SET_META_CONTEXT selected: base:allocation or not, and dirty bitmaps. */
    record Selection(boolean allocation, DirtyBitmap[] bitmaps) {
        static final Selection NONE = new Selection(false, new DirtyBitmap[0]);

        boolean isEmpty() {
            return !allocation && bitmaps.length == 0;
        }

        /** The context id of {@code bitmaps[index]}. */
        static int bitmapId(int index) {
            return FIRST_BITMAP_ID + index;
        }

        /** The first selected bitmap removed since, or null. */
        DirtyBitmap removed() {
            for (DirtyBitmap b : bitmaps) {
                if (b.removed()) {
                    return b;
                }
            }
            return null;
        }
    }

    static String contextName(DirtyBitmap bitmap) {
        return DIRTY_BITMAP + bitmap.name();
    }

    /**
     * NBD_OPT_LIST_META_CONTEXT: no query lists everything; {@code base:},
     * {@code qemu:} and {@code qemu:dirty-bitmap:} are wildcards; other queries
     * match a context by its whole name.
     */
    static List<String> list(ExportBitmaps bitmaps, List<String> queries) {
        List<String> all = new ArrayList<>();
        all.add(Nbd.BASE_ALLOCATION);
        bitmaps.all().forEach(b -> all.add(contextName(b)));
        if (queries.isEmpty()) {
            return all;
        }
        return all.stream().filter(name -> queries.stream().anyMatch(q -> matches(q, name))).toList();
    }

    private static boolean matches(String query, String name) {
        if (query.equals("base:") || query.equals("qemu:") || query.equals(DIRTY_BITMAP)) {
            return name.startsWith(query);
        }
        return query.equals(name);
    }

    /** NBD_OPT_SET_META_CONTEXT: only whole names select; wildcards and unknown names are ignored. */
    static Selection select(ExportBitmaps bitmaps, List<String> queries) {
        boolean allocation = queries.contains(Nbd.BASE_ALLOCATION);
        List<DirtyBitmap> chosen = new ArrayList<>();
        for (String q : queries) {
            if (q.startsWith(DIRTY_BITMAP)) {
                DirtyBitmap b = bitmaps.find(q.substring(DIRTY_BITMAP.length()));
                if (b != null && !chosen.contains(b)) {
                    chosen.add(b);
                }
            }
        }
        return new Selection(allocation, chosen.toArray(new DirtyBitmap[0]));
    }
}
