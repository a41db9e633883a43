# An incremental backup from a dirty bitmap, as a backup tool does it with libnbd:
# read the export's qemu:dirty-bitmap:NAME extents, read just the dirty ranges and
# write them into the previous full copy. Prints the bytes copied, and the names
# the qemu:dirty-bitmap: prefix query lists.
# argv: URI BITMAP FULL_COPY
import sys
import nbd

uri, bitmap, full = sys.argv[1], sys.argv[2], sys.argv[3]
context = "qemu:dirty-bitmap:" + bitmap

listing = nbd.NBD()
listing.set_opt_mode(True)
listing.connect_uri(uri)
listing.add_meta_context("qemu:dirty-bitmap:")
listed = []
listing.opt_list_meta_context(lambda name: listed.append(name) or 0)
listing.opt_abort()

h = nbd.NBD()
h.add_meta_context(context)
h.connect_uri(uri)
if not h.can_meta_context(context):
    sys.exit("the server did not select " + context)
size = h.get_size()
dirty = []
position = [0]


def extents(metacontext, offset, entries, err):
    if metacontext != context:
        return 0
    at = offset
    for i in range(0, len(entries), 2):
        length, flags = entries[i], entries[i + 1]
        if flags & 1:
            dirty.append((at, length))
        at += length
    position[0] = at
    return 0


while position[0] < size:
    start = position[0]
    h.block_status(min(size - start, 1 << 30), start, extents)
    if position[0] <= start:
        sys.exit("no progress at %d" % start)

copied = 0
with open(full, "r+b") as f:
    for offset, length in dirty:
        done = 0
        while done < length:
            n = min(length - done, 1 << 20)
            f.seek(offset + done)
            f.write(h.pread(n, offset + done))
            done += n
        copied += length
h.shutdown()
print("copied %d" % copied)
print("listed " + " ".join(sorted(listed)))
