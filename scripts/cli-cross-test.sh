#!/usr/bin/env bash
# Static musl builds of the `wxface` command-line tool, each running `doctor` against the mock
# (under qemu-user for ARM) — a binary that can be copied onto any terminal of its architecture.
#
# Targets (CLI_CROSS_TARGETS, default aarch64-unknown-linux-musl; the musl targets of the
# library's release archives, see scripts/dist.sh):
#   aarch64-unknown-linux-musl       run with qemu-aarch64
#   armv7-unknown-linux-musleabihf   run with qemu-arm; no prebuilt std for it, so the nightly
#                                    toolchain builds std from source (-Zbuild-std)
#   x86_64-unknown-linux-musl        run directly
#
#   1. Tools: the rustup targets (and nightly with rust-src for armv7), qemu-user (apt-get) and
#      cargo-zigbuild with zig (pip: ziglang cargo-zigbuild, in a virtual environment under
#      target/cli-cross/venv unless already installed) as the musl cross linker.
#   2. cargo zigbuild --release -p wxface-cli --target T; check that the binary is a static
#      executable of the right machine (no program interpreter, no NEEDED libraries) and print
#      its size.
#   3. Start the host-built mock four times (plain HTTP that only accepts rawdata from a face
#      SDK, HTTPS with a test CA, HTTPS with a certificate from another CA, plain HTTP bound to
#      another sub-merchant) and run each build's `wxface doctor` against them: all checks pass (exit 0, verdict 无效的RawData数据), over
#      HTTPS with --ca-file (exit 0, TLS step passed), HTTPS presenting a certificate from
#      another CA (--tls-foreign-ca: exit 23, the middlebox CA named), with a wrong key
#      (exit 25, 签名错误) and with a sub_mch_id the mock's --expect-id refuses (exit 26). No
#      output may contain either key.
#
# Everything is built under target/cli-cross. Usage: scripts/cli-cross-test.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start_time=$SECONDS
read -r -a targets <<<"${CLI_CROSS_TARGETS:-aarch64-unknown-linux-musl}"
for t in "${targets[@]}"; do
    case "$t" in
        aarch64-unknown-linux-musl | armv7-unknown-linux-musleabihf | x86_64-unknown-linux-musl) ;;
        *) echo "cli-cross-test: unsupported target $t" >&2; exit 2 ;;
    esac
done
target_dir="$root/target/cli-cross"
work="$target_dir/run"
rm -rf "$work"
mkdir -p "$work"

section() { printf '\n== %s\n' "$*"; }

section "tools"
need_qemu=()
for t in "${targets[@]}"; do
    case "$t" in
        aarch64-*) command -v qemu-aarch64 >/dev/null || need_qemu=(qemu-user) ;;
        armv7-*) command -v qemu-arm >/dev/null || need_qemu=(qemu-user) ;;
    esac
done
if ((${#need_qemu[@]})); then
    sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    echo "apt-get install qemu-user"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
fi
for t in "${targets[@]}"; do
    if [[ "$t" == armv7-unknown-linux-musleabihf ]]; then
        rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
        rustup +nightly component add rust-src
    elif ! rustup target list --installed | grep -qx "$t"; then
        rustup target add "$t"
    fi
done
scripts_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
[[ -n "$scripts_dir" ]] && export PATH="$PATH:$scripts_dir"
# cargo-zigbuild and zig from PyPI, into a virtual environment under target/cli-cross (Debian's
# system Python refuses `pip install` outside one). CLI_CROSS_VENV=1 forces this path.
venv="$target_dir/venv"
[[ -x "$venv/bin/cargo-zigbuild" ]] && export PATH="$venv/bin:$PATH"
if [[ "${CLI_CROSS_VENV:-0}" == 1 && ! -x "$venv/bin/cargo-zigbuild" ]] ||
    ! command -v cargo-zigbuild >/dev/null ||
    ! { command -v zig >/dev/null || python3 -c 'import ziglang' 2>/dev/null; }; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
        sudo=""
        [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
        echo "apt-get install python3 python3-venv"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
    fi
    echo "pip install ziglang cargo-zigbuild (into $venv)"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q ziglang cargo-zigbuild
    export PATH="$venv/bin:$PATH"
    hash -r
fi
echo "qemu-user, ${targets[*]}, cargo-zigbuild: ready ($((SECONDS - start_time)) s)"

section "host mock server"
cargo build --release -p wxface-mock --target-dir "$target_dir"
mock="$target_dir/release/wxface-mock"

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
    section "build $t"
    build "$t"
done

section "doctor against the mock"
key=wxfacecross0123456789abcdefABCDE
wrong_key=WRONGcrossX0123456789abcdefABCDE
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
start_mock() { # name args... -> sets port
    local name=$1
    shift
    "$mock" --key "$key" --port-file "$work/$name.port" "$@" >"$work/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do [[ -s "$work/$name.port" ]] && break; sleep 0.1; done
    [[ -s "$work/$name.port" ]] || { echo "mock $name did not start; see $work/$name.log" >&2; exit 1; }
    port=$(cat "$work/$name.port")
}
start_mock strict --rawdata-prefix FACESDK:
strict_port=$port
mkdir -p "$work/tls"
start_mock tls --tls-dir "$work/tls"
tls_port=$port
mkdir -p "$work/foreign"
start_mock foreign --tls-dir "$work/foreign" --tls-foreign-ca
foreign_port=$port
start_mock ids --expect-id sub_mch_id=1900000111
ids_port=$port

failures=0
runner() { # target
    case "$1" in
        aarch64-*) echo qemu-aarch64 ;;
        armv7-*) echo qemu-arm ;;
        *) echo env ;;
    esac
}
check() { # target description expected-code expected-text key args...
    local t=$1 what="$1: $2" want=$3 text=$4 k=$5 rc=0 out
    shift 5
    out=$(WXFACE_KEY="$k" WXFACE_MCH_ID=1900000109 WXFACE_APPID=wx2421b1c4370ec43b \
        timeout 300 $(runner "$t") "$work/wxface-$t" doctor "$@" 2>&1) || rc=$?
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
    check "$t" "plain HTTP, all checks" 0 "无效的RawData数据" "$key" --base-url "http://127.0.0.1:$strict_port"
    check "$t" "HTTPS with a custom CA" 0 "issued by CN=wxface-mock test CA" "$key" \
        --base-url "https://localhost:$tls_port" --ca-file "$work/tls/ca.pem"
    check "$t" "certificate from another CA" 23 "issued by CN=wxface-mock middlebox CA" "$key" \
        --base-url "https://localhost:$foreign_port" --ca-file "$work/foreign/ca.pem"
    check "$t" "wrong key" 25 "签名错误" "$wrong_key" --base-url "http://127.0.0.1:$strict_port"
    check "$t" "ids that do not belong together" 26 "请检查mchid,submchid,appid,subappid" "$key" \
        --base-url "http://127.0.0.1:$ids_port" --sub-mch-id 1900000222
done

section "summary"
for t in "${targets[@]}"; do
    echo "wxface ($t): ${size[$t]} bytes, static, built in ${built_in[$t]} s"
done
echo "wall time: $((SECONDS - start_time)) s"
if ((failures)); then
    echo "FAILED: $failures check(s)" >&2
    exit 1
fi
echo "all cli cross checks passed"
