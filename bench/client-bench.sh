#!/bin/bash
# Compares `bufcache bench` with fio's nbd engine against the same `nbdkit null`
# server over a Unix socket: 4k random reads, queue depth 32, one connection.
# Runs the two alternately, ROUNDS times each, and prints both medians and the
# ratio bufcache/fio (the requirement is >= 0.9).
#
# Usage: bench/client-bench.sh [ROUNDS] [SECONDS]     (defaults 3 and 10)
# Needs client/target/bufcache.jar, nbdkit, fio with ioengine=nbd, and
# /usr/bin/python3 with python3-libnbd.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-3}
RUNTIME=${2:-$RUNTIME}

[ -f "$ROOT/client/target/bufcache.jar" ] || die "build client/target/bufcache.jar first"
need fio nbdkit
bench_init
banner
start null nbdkit --foreground --unix "$(sock null)" null 1G
wait_serving null

for round in $(seq "$ROUNDS"); do
    echo "== round $round"
    b=$("$ROOT/bin/bufcache" bench "$(uri null)" --rw randread --bs 4k --iodepth 32 --connections 1 \
        --runtime "$RUNTIME" | awk '/^IOPS:/ {print $2}')
    record randread-4k-qd32 bufcache "$b"
    f=$(fio_iops "$(uri null)" --rw=randread --bs=4k --iodepth=32 --numjobs=1 --size=1G --time_based=1 \
        --runtime="$RUNTIME")
    record randread-4k-qd32 fio "$f"
done
echo
echo "== median IOPS over $ROUNDS rounds"
median_table bufcache fio
