#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 60) on the nightly toolchain,
# starting from the committed seeds (fuzz/corpus/<target>/) copied into a scratch corpus under
# fuzz/target/scratch-corpus/ so the committed corpus never grows. Prints, per target, the runs
# and exec/s from libFuzzer's final stats. Exits non-zero if any target crashed (the input is
# saved under fuzz/artifacts/<target>/; replay it with
# `cargo +nightly fuzz run <target> fuzz/artifacts/<target>/crash-…`).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -uo pipefail

SECONDS_PER_TARGET="${1:-60}"
shift || true
cd "$(dirname "$0")/../fuzz"

[[ "$SECONDS_PER_TARGET" =~ ^0*[1-9][0-9]*$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2; }
rustup run nightly rustc --version >/dev/null 2>&1 ||
    { echo "fuzz.sh: needs the nightly toolchain (rustup toolchain install nightly)" >&2; exit 2; }
cargo fuzz --version >/dev/null 2>&1 || { echo "fuzz.sh: installing cargo-fuzz" >&2; cargo install --locked cargo-fuzz || exit 2; }

targets=("$@")
[ "$#" -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)

cargo +nightly fuzz build || exit 2

logs="target/fuzz-logs"
mkdir -p "$logs"
failed=()
summary=()
for t in "${targets[@]}"; do
    scratch="target/scratch-corpus/$t"
    mkdir -p "$scratch"
    cp -f corpus/"$t"/* "$scratch"/ 2>/dev/null
    extra=()
    [ "$t" = xml_decode ] && extra+=(-dict=dict/xml.dict)
    echo "=== $t: ${SECONDS_PER_TARGET}s (log: fuzz/$logs/$t.log)"
    cargo +nightly fuzz run "$t" "$scratch" -- \
        -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 "${extra[@]}" \
        >"$logs/$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -n1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log" | tail -n1)
    cov=$(grep -Eo '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE).*cov: [0-9]+' "$logs/$t.log" \
        | tail -n1 | grep -Eo 'cov: [0-9]+' || true)
    line="$t: ${runs:-?} runs, ${eps:-?} exec/s${cov:+, $cov}"
    [ "$rc" -eq 0 ] || line="$t: CRASH (exit $rc) after ${runs:-?} runs"
    echo "$line"
    summary+=("$line")
    if [ "$rc" -ne 0 ]; then
        failed+=("$t")
        grep -E "panicked at|^Error:|SUMMARY|Test unit written to|deadly signal|out-of-memory|timeout" \
            "$logs/$t.log" | head -n 8
        grep -A3 "panicked at" "$logs/$t.log" | head -n 8
    fi
done

echo
echo "=== summary (${SECONDS_PER_TARGET}s per target)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "crashed: ${failed[*]}" >&2
    exit 1
fi
