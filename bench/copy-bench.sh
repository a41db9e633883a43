#!/bin/bash
# Compares `bufcache copy -q` with `nbdcopy --flush` on the same source and
# target: a 4 GiB image (2 GiB of random data in 64 MiB runs, 2 GiB of holes)
# copied into a 4 GiB bufcached export, then into `nbdkit null 4G` (no server
# work: the client's own cost). The tools run alternately, ROUNDS times each per
# target, after two unmeasured runs of each (the image in the page cache, the
# daemon's JIT warm, bin/bufcache's class data archive written). Prints each
# run's wall time, the client's CPU and the server's CPU, then the medians and
# the speed ratio nbdcopy time / bufcache time (the requirement is >= 0.9).
# Needs `mvn -B package` first (client/target/bufcache.jar, daemon/target/bufcached.jar).
#
# Usage: bench/copy-bench.sh [ROUNDS]     (default 5; BENCH_DIR as in lib.sh)
set -euo pipefail
rounds=${1:-5}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
need nbdkit nbdcopy
[ -f "$ROOT/client/target/bufcache.jar" ] || die "build client/target/bufcache.jar first"
[ -f "$JAR" ] || die "build $JAR first"
bench_init
banner
export XDG_CACHE_HOME=$TMP/cache
SOURCE=$TMP/source.img

echo "== creating the 4 GiB source image"
"$PY" - "$SOURCE" <<'EOF'
import os, sys
run = 64 << 20
with open(sys.argv[1], "wb") as f:
    f.truncate(4 << 30)
    for at in range(0, 4 << 30, 2 * run):
        f.seek(at)
        for _ in range(run >> 20):
            f.write(os.urandom(1 << 20))
EOF
truncate -s 4G "$IMG" # the export, sparse
start_bufcached --admin-socket=off
start null nbdkit -f -U "$(sock null)" null 4G
wait_serving bufcached null

cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
TIMEFORMAT='%R %U %S'

measure() { # server-pid command...: prints "wall client-cpu server-cpu" of one run
    local server=$1 before after t
    shift
    before=$(cpu "$server")
    t=$({ time "$@" >/dev/null 2>"$TMP/stderr"; } 2>&1) || die "$* failed: $(cat "$TMP/stderr")"
    after=$(cpu "$server")
    echo "$t" | awk -v b="$before" -v a="$after" '{printf "%.2f %.2f %.2f\n", $1, $2 + $3, a - b}'
}

for target in bufcached null; do
    pid=PID_$target
    for _ in 1 2; do
        measure "${!pid}" "$ROOT/bin/bufcache" copy -q "$SOURCE" "$(uri $target)" >/dev/null
        measure "${!pid}" nbdcopy --flush "$SOURCE" "$(uri $target)" >/dev/null
    done
    for round in $(seq "$rounds"); do
        b=$(measure "${!pid}" "$ROOT/bin/bufcache" copy -q "$SOURCE" "$(uri $target)")
        n=$(measure "${!pid}" nbdcopy --flush "$SOURCE" "$(uri $target)")
        echo "$target round $round: bufcache $b, nbdcopy $n (wall s, client CPU s, server CPU s)"
        echo "$b" >>"$TMP/bufcache.$target"
        echo "$n" >>"$TMP/nbdcopy.$target"
    done
    for tool in bufcache nbdcopy; do
        printf '%s median %-8s wall %s s, client CPU %s s, server CPU %s s\n' $target $tool \
            "$(cut -d' ' -f1 "$TMP/$tool.$target" | median)" "$(cut -d' ' -f2 "$TMP/$tool.$target" | median)" \
            "$(cut -d' ' -f3 "$TMP/$tool.$target" | median)"
    done
    awk -v b="$(cut -d' ' -f1 "$TMP/bufcache.$target" | median)" \
        -v n="$(cut -d' ' -f1 "$TMP/nbdcopy.$target" | median)" -v t=$target \
        'BEGIN {printf "%s ratio nbdcopy/bufcache time: %.2f\n", t, n / b}'
done
