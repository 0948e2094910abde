#!/usr/bin/env bash
# Instructions (callgrind Ir) per iteration of the HTTP/1 codec benchmark, for each mode given
# (default: parse browser serialize). Each mode runs twice, with 5,000 and 15,000 iterations;
# the difference divided by 10,000 cancels process start-up. Needs valgrind and
# `swift build -c release --product stepwise-codec-bench`. See Benchmarks/README.md.
set -euo pipefail
bin="${STEPWISE_CODEC_BENCH:-$(dirname "$0")/../.build/release/stepwise-codec-bench}"
out="${TMPDIR:-/tmp}"
[ $# -gt 0 ] || set -- parse browser serialize
ir() {
    valgrind --tool=callgrind --callgrind-out-file="$out/codec-bench.$1.$2.callgrind" "$bin" "$1" "$2" 2>&1 \
        | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
for mode in "$@"; do
    short=$(ir "$mode" 5000)
    long=$(ir "$mode" 15000)
    echo "$mode: $(((long - short) / 10000)) Ir/iteration ($out/codec-bench.$mode.15000.callgrind)"
done
