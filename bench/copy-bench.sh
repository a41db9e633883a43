#!/bin/bash
# Compares `bufcache copy -q` with `nbdcopy --flush` on the same source and
# target: a 4 GiB image (2 GiB of random data in 64 MiB runs, 2 GiB of holes)
# copied into a 4 GiB bufcached export, then into `nbdkit null 4G` (no server
# work: the client's own cost). Both servers listen on Unix sockets in a
# temporary directory. The tools run alternately, ROUNDS times each per target,
# after two unmeasured runs of each (the image in the page cache, the daemon's
# JIT warm, the launcher's class data archive written). Prints each run's wall time, the client's CPU
# and the server's CPU, then the medians and the speed ratio
# nbdcopy time / bufcache time (the requirement is >= 0.9).
#
# Usage: bench/copy-bench.sh [ROUNDS]     (default 5; BENCH_DIR for the directory, default /var/tmp)
set -euo pipefail
rounds=${1:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
for tool in nbdkit nbdcopy python3; do
    command -v $tool >/dev/null || { echo "copy-bench: $tool is not installed" >&2; exit 2; }
done
for jar in client/target/bufcache.jar daemon/target/bufcached.jar; do
    [ -f "$here/$jar" ] || { echo "copy-bench: build $jar first" >&2; exit 2; }
done

dir=$(mktemp -d "${BENCH_DIR:-/var/tmp}/copy-bench.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
export XDG_CACHE_HOME="$dir/cache"

python3 - "$dir/image.img" <<'EOF'
import os, sys
run = 64 << 20
with open(sys.argv[1], "wb") as f:
    f.truncate(4 << 30)
    for at in range(0, 4 << 30, 2 * run):
        f.seek(at)
        for _ in range(run >> 20):
            f.write(os.urandom(1 << 20))
EOF

(cd "$dir" && exec "$here/bin/bufcached" --export="disk=$dir/disk.img,size=4G" --unix="$dir/nbd.sock" \
    --metrics=off --admin-socket=off >"$dir/bufcached.log" 2>&1) &
pids+=($!)
daemon=$!
nbdkit -f -U "$dir/null.sock" null 4G &
pids+=($!)
nullserver=$!
for sock in nbd.sock null.sock; do
    for _ in $(seq 300); do [ -S "$dir/$sock" ] && break; sleep 0.1; done
    [ -S "$dir/$sock" ] || { echo "copy-bench: no server on $dir/$sock" >&2; cat "$dir/bufcached.log" >&2; exit 1; }
done

cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
TIMEFORMAT='%R %U %S'

# One run: prints "wall client-cpu server-cpu".
measure() {
    local server=$1; shift
    local before after t
    before=$(cpu "$server")
    if ! t=$({ time "$@" >/dev/null 2>"$dir/stderr"; } 2>&1); then
        echo "copy-bench: $* failed: $(cat "$dir/stderr")" >&2
        exit 1
    fi
    after=$(cpu "$server")
    echo "$t" | awk -v b="$before" -v a="$after" '{printf "%.2f %.2f %.2f\n", $1, $2 + $3, a - b}'
}

for target in bufcached null; do
    if [ $target = bufcached ]; then uri="nbd+unix:///disk?socket=$dir/nbd.sock"; server=$daemon
    else uri="nbd+unix:///?socket=$dir/null.sock"; server=$nullserver; fi
    for _ in 1 2; do
        measure $server "$here/bin/bufcache" copy -q "$dir/image.img" "$uri" >/dev/null
        measure $server nbdcopy --flush "$dir/image.img" "$uri" >/dev/null
    done
    : >"$dir/bufcache.$target"
    : >"$dir/nbdcopy.$target"
    for round in $(seq "$rounds"); do
        b=$(measure $server "$here/bin/bufcache" copy -q "$dir/image.img" "$uri")
        n=$(measure $server nbdcopy --flush "$dir/image.img" "$uri")
        echo "$target round $round: bufcache $b, nbdcopy $n (wall s, client CPU s, server CPU s)"
        echo "$b" >>"$dir/bufcache.$target"
        echo "$n" >>"$dir/nbdcopy.$target"
    done
    for tool in bufcache nbdcopy; do
        printf '%s median %-8s wall %s s, client CPU %s s, server CPU %s s\n' $target $tool \
            "$(cut -d' ' -f1 "$dir/$tool.$target" | median)" "$(cut -d' ' -f2 "$dir/$tool.$target" | median)" \
            "$(cut -d' ' -f3 "$dir/$tool.$target" | median)"
    done
    awk -v b="$(cut -d' ' -f1 "$dir/bufcache.$target" | median)" -v n="$(cut -d' ' -f1 "$dir/nbdcopy.$target" | median)" \
        -v t=$target 'BEGIN {printf "%s ratio nbdcopy/bufcache time: %.2f\n", t, n / b}'
done
