#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ (or those named) for SECONDS each (default 60) on the
# nightly toolchain, from the committed seeds fuzz/corpus/<target>/ copied to a scratch corpus
# (fuzz/target/scratch-corpus/), so the committed one never grows. Prints each target's runs,
# exec/s and coverage; exits 1 if any crashed (input saved under fuzz/artifacts/<target>/; replay:
# `cargo +nightly fuzz run <target> fuzz/artifacts/<target>/crash-…`). Logs: fuzz/target/fuzz-logs/.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -uo pipefail
secs="${1:-60}"
shift || true
cd "$(dirname "$0")/../fuzz" || exit 2
[[ "$secs" =~ ^0*[1-9][0-9]*$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2; }
rustup run nightly rustc --version >/dev/null 2>&1 ||
    { echo "fuzz.sh: needs the nightly toolchain (rustup toolchain install nightly)" >&2; exit 2; }
cargo fuzz --version >/dev/null 2>&1 || cargo install --locked cargo-fuzz || exit 2
targets=("$@")
(($#)) || mapfile -t targets < <(cargo +nightly fuzz list)
cargo +nightly fuzz build || exit 2

logs=target/fuzz-logs crashed=()
mkdir -p "$logs"
for t in "${targets[@]}"; do
    mkdir -p "target/scratch-corpus/$t" && cp -f corpus/"$t"/* "target/scratch-corpus/$t/" 2>/dev/null
    dict=()
    [[ "$t" != xml_decode ]] || dict=(-dict=dict/xml.dict)
    cargo +nightly fuzz run "$t" "target/scratch-corpus/$t" -- -max_total_time="$secs" -print_final_stats=1 \
        "${dict[@]}" >"$logs/$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -n1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log" | tail -n1)
    cov=$(grep -Eo '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE).*cov: [0-9]+' "$logs/$t.log" | tail -n1 | grep -Eo 'cov: [0-9]+')
    if ((rc == 0)); then
        echo "$t: ${runs:-?} runs in ${secs}s, ${eps:-?} exec/s${cov:+, $cov}"
    else
        crashed+=("$t")
        echo "$t: CRASH (exit $rc) after ${runs:-?} runs (log: fuzz/$logs/$t.log)"
        grep -E -A3 "panicked at|^Error:|SUMMARY|Test unit written to|deadly signal|out-of-memory|timeout" "$logs/$t.log" | head -n 16
    fi
done
((${#crashed[@]} == 0)) || { echo "crashed: ${crashed[*]}" >&2; exit 1; }
