#!/bin/bash
# Compares `bufcache bench` with fio's nbd engine against the same `nbdkit null`
# server over a Unix socket: 4k random reads, queue depth 32, one connection.
# Runs the two alternately, ROUNDS times each, and prints both medians and the
# ratio bufcache/fio (the requirement is >= 0.9).
#
# Usage: bench/client-bench.sh [ROUNDS] [SECONDS]     (defaults 3 and 10)
set -euo pipefail
rounds=${1:-3}
runtime=${2:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
for tool in nbdkit fio; do
    command -v $tool >/dev/null || { echo "client-bench: $tool is not installed" >&2; exit 2; }
done
[ -f "$here/client/target/bufcache.jar" ] || { echo "client-bench: build client/target/bufcache.jar first" >&2; exit 2; }

dir=$(mktemp -d)
sock="$dir/null.sock"
nbdkit -f -U "$sock" null 1G &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
uri="nbd+unix:///?socket=$sock"

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

bufcache_iops=()
fio_iops=()
for round in $(seq "$rounds"); do
    b=$("$here/bin/bufcache" bench "$uri" --rw randread --bs 4k --iodepth 32 --connections 1 --runtime "$runtime" \
        | awk '/^IOPS:/ {print $2}')
    f=$(fio --name=nbd --ioengine=nbd --uri="$uri" --rw=randread --bs=4k --iodepth=32 --numjobs=1 \
        --size=1G --time_based --runtime="$runtime" --output-format=terse --terse-version=3 \
        | awk -F';' 'NF > 8 {print $8}')
    echo "round $round: bufcache $b IOPS, fio $f IOPS"
    bufcache_iops+=("$b")
    fio_iops+=("$f")
done
bm=$(printf '%s\n' "${bufcache_iops[@]}" | median)
fm=$(printf '%s\n' "${fio_iops[@]}" | median)
echo "median bufcache bench: $bm IOPS"
echo "median fio nbd:        $fm IOPS"
awk -v b="$bm" -v f="$fm" 'BEGIN {printf "ratio bufcache/fio:    %.2f\n", b / f}'
