#!/usr/bin/env bash
# make cli-cross-test: static musl builds of the `wxface` tool (cargo zigbuild -p wxface-cli), each
# checked to be a static executable of its machine (no interpreter, no NEEDED) and run (under
# qemu-user for ARM) as `doctor` against four mocks: plain HTTP accepting only a face SDK's
# rawdata (exit 0, 无效的RawData数据), HTTPS with --ca-file (exit 0), a certificate from another
# CA (exit 23), a wrong key (exit 25, 签名错误), a sub_mch_id the mock refuses (exit 26); no output
# may contain a key. What it is for: docs/cli.md, "Static binaries for terminals".
#
# Usage: scripts/cli-cross-test.sh   (CLI_CROSS_TARGETS: aarch64-unknown-linux-musl (default),
# armv7-unknown-linux-musleabihf (nightly, -Zbuild-std), x86_64-unknown-linux-musl; builds under
# target/cli-cross)
work="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/cli-cross/run"
rm -rf "$work"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
start_time=$SECONDS
target_dir="$root/target/cli-cross"
read -r -a targets <<<"${CLI_CROSS_TARGETS:-aarch64-unknown-linux-musl}"
for t in "${targets[@]}"; do
    [[ "$t" == *-musl* ]] || { echo "cli-cross-test: unsupported target $t" >&2; exit 2; }
    need_cross "$t" qemu
done
need_zig
echo "qemu-user, ${targets[*]}, cargo-zigbuild: ready ($((SECONDS - start_time)) s)"

declare -A size built_in
build() { # target
    local t=$1 t0=$SECONDS bin machine
    if [[ "$t" == armv7-unknown-linux-musleabihf ]]; then
        # Without a prebuilt std there are no self-contained crt objects either: zig's musl
        # provides crt1.o and libc.
        CARGO_TARGET_ARMV7_UNKNOWN_LINUX_MUSLEABIHF_RUSTFLAGS="-C link-self-contained=no" \
            cargo +nightly zigbuild -Zbuild-std=std,panic_unwind --release -p wxface-cli \
            --target "$t" --target-dir "$target_dir/nightly"
        bin="$target_dir/nightly/$t/release/wxface"
    else
        cargo zigbuild --release -p wxface-cli --target "$t" --target-dir "$target_dir"
        bin="$target_dir/$t/release/wxface"
    fi
    built_in[$t]=$((SECONDS - t0))
    case "$t" in
        aarch64-*) machine=AArch64 ;;
        armv7-*) machine=ARM ;;
        x86_64-*) machine=X86-64 ;;
    esac
    readelf -h "$bin" | grep -q "Machine: *.*$machine" ||
        { echo "FAIL: $bin is not a $machine executable" >&2; return 1; }
    if readelf -l "$bin" | grep -q 'INTERP'; then
        echo "FAIL: $bin asks for a program interpreter (not static)" >&2
        return 1
    fi
    if readelf -d "$bin" 2>/dev/null | grep -q 'NEEDED'; then
        echo "FAIL: $bin needs shared libraries" >&2
        return 1
    fi
    size[$t]=$(stat -c %s "$bin")
    ln -sf "$bin" "$work/wxface-$t"
    echo "$bin: static $machine executable, ${size[$t]} bytes, built in ${built_in[$t]} s"
}
for t in "${targets[@]}"; do
    echo "== build $t"
    build "$t"
done

echo "== doctor against the mock"
key=wxfacecross0123456789abcdefABCDE
wrong_key=WRONGcrossX0123456789abcdefABCDE
mock strict --rawdata-prefix FACESDK:
strict_port=$port
mkdir -p "$work/tls" "$work/foreign"
mock tls --tls-dir "$work/tls"
tls_port=$port
mock foreign --tls-dir "$work/foreign" --tls-foreign-ca
foreign_port=$port
mock ids --expect-id sub_mch_id=1900000111
ids_port=$port

failures=0
doctor() { # target description expected-code expected-text key args...
    local t=$1 what="$1: $2" want=$3 text=$4 k=$5 rc=0 out
    shift 5
    target "$t"
    out=$(WXFACE_KEY="$k" WXFACE_MCH_ID=1900000109 WXFACE_APPID=wx2421b1c4370ec43b \
        timeout 300 $runner "$work/wxface-$t" doctor "$@" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed 's/^/    /'
    if [[ $rc -ne $want ]]; then
        echo "FAIL: $what: exit $rc, expected $want" >&2
        failures=$((failures + 1))
    elif ! grep -qF -- "$text" <<<"$out"; then
        echo "FAIL: $what: no '$text' in the output" >&2
        failures=$((failures + 1))
    elif grep -qF -e "$key" -e "$wrong_key" <<<"$out"; then
        echo "FAIL: $what: a key appears in the output" >&2
        failures=$((failures + 1))
    else
        echo "ok: $what (exit $rc)"
    fi
}
for t in "${targets[@]}"; do
    doctor "$t" "plain HTTP, all checks" 0 "无效的RawData数据" "$key" --base-url "http://127.0.0.1:$strict_port"
    doctor "$t" "HTTPS with a custom CA" 0 "issued by CN=wxface-mock test CA" "$key" \
        --base-url "https://localhost:$tls_port" --ca-file "$work/tls/ca.pem"
    doctor "$t" "certificate from another CA" 23 "issued by CN=wxface-mock middlebox CA" "$key" \
        --base-url "https://localhost:$foreign_port" --ca-file "$work/foreign/ca.pem"
    doctor "$t" "wrong key" 25 "签名错误" "$wrong_key" --base-url "http://127.0.0.1:$strict_port"
    doctor "$t" "ids that do not belong together" 26 "请检查mchid,submchid,appid,subappid" "$key" \
        --base-url "http://127.0.0.1:$ids_port" --sub-mch-id 1900000222
done

echo "== summary"
for t in "${targets[@]}"; do
    echo "wxface ($t): ${size[$t]} bytes, static, built in ${built_in[$t]} s"
done
echo "wall time: $((SECONDS - start_time)) s"
if ((failures)); then
    echo "FAILED: $failures check(s)" >&2
    exit 1
fi
echo "all cli cross checks passed"
