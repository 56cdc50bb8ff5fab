#!/usr/bin/env bash
# make cli-cross-test: static musl builds of the `wxface` tool (cargo zigbuild -p wxface-cli), each
# checked to be a static executable of its machine (no interpreter, no NEEDED) and run (under
# qemu-user for ARM) as `doctor` against four mocks: plain HTTP accepting only a face SDK's
# rawdata (exit 0, 无效的RawData数据), HTTPS with --ca-file (exit 0), a certificate from another
# CA (exit 23), a wrong key (exit 25, 签名错误), a sub_mch_id the mock refuses (exit 26); no output
# may contain a key. What it is for, and the targets CLI_CROSS_TARGETS takes (default
# aarch64-unknown-linux-musl): docs/cli.md, "Static binaries for terminals". Builds under
# target/cli-cross.
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

build() { # target
    local t=$1 t0=$SECONDS bin machine dir=$target_dir
    if [[ "$t" == armv7-unknown-linux-musleabihf ]]; then
        # Without a prebuilt std there are no self-contained crt objects either: zig's musl
        # provides crt1.o and libc.
        dir=$target_dir/nightly
        CARGO_TARGET_ARMV7_UNKNOWN_LINUX_MUSLEABIHF_RUSTFLAGS="-C link-self-contained=no" \
            cargo +nightly zigbuild -Zbuild-std=std,panic_unwind --release -p wxface-cli --target "$t" --target-dir "$dir"
    else
        cargo zigbuild --release -p wxface-cli --target "$t" --target-dir "$dir"
    fi
    bin="$dir/$t/release/wxface"
    case "$t" in aarch64-*) machine=AArch64 ;; armv7-*) machine=ARM ;; x86_64-*) machine=X86-64 ;; esac
    readelf -h "$bin" | has "Machine: *.*$machine" || fail "$bin is not a $machine executable"
    ! readelf -l "$bin" | has INTERP || fail "$bin asks for a program interpreter (not static)"
    ! readelf -d "$bin" 2>/dev/null | has NEEDED || fail "$bin needs shared libraries"
    ln -sf "$bin" "$work/wxface-$t"
    echo "summary: static $machine executable, $(stat -c %s "$bin") bytes, built in $((SECONDS - t0)) s"
}
for t in "${targets[@]}"; do check "build $t" build "$t"; done

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

doctor() { # target expected-code expected-text key args...: `wxface doctor` against a mock
    local t=$1 want=$2 text=$3 k=$4 rc=0 out
    shift 4
    target "$t"
    out=$(WXFACE_KEY="$k" WXFACE_MCH_ID=1900000109 WXFACE_APPID=wx2421b1c4370ec43b \
        timeout 300 $runner "$work/wxface-$t" doctor "$@" 2>&1) || rc=$?
    printf '%s\n' "$out"
    ((rc == want)) || fail "exit $rc, expected $want"
    grep -qF -- "$text" <<<"$out" || fail "no '$text' in the output"
    ! grep -qF -e "$key" -e "$wrong_key" <<<"$out" || fail "a key appears in the output"
    echo "summary: exit $rc"
}
for t in "${targets[@]}"; do
    [[ -e "$work/wxface-$t" ]] || continue
    check "$t: plain HTTP, all checks" doctor "$t" 0 "无效的RawData数据" "$key" --base-url "http://127.0.0.1:$strict_port"
    check "$t: HTTPS with a custom CA" doctor "$t" 0 "issued by CN=wxface-mock test CA" "$key" \
        --base-url "https://localhost:$tls_port" --ca-file "$work/tls/ca.pem"
    check "$t: certificate from another CA" doctor "$t" 23 "issued by CN=wxface-mock middlebox CA" "$key" \
        --base-url "https://localhost:$foreign_port" --ca-file "$work/foreign/ca.pem"
    check "$t: wrong key" doctor "$t" 25 "签名错误" "$wrong_key" --base-url "http://127.0.0.1:$strict_port"
    check "$t: ids that do not belong together" doctor "$t" 26 "请检查mchid,submchid,appid,subappid" "$key" \
        --base-url "http://127.0.0.1:$ids_port" --sub-mch-id 1900000222
done
echo "wall time: $((SECONDS - start_time)) s"
finish
