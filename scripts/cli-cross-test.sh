#!/usr/bin/env bash
# Static aarch64 build of the `wxface` command-line tool, run under qemu-user against the mock.
#
#   1. Tools: the rustup target aarch64-unknown-linux-musl, qemu-user (apt-get) and
#      cargo-zigbuild with zig (pip: ziglang cargo-zigbuild, in a virtual environment under
#      target/cli-cross/venv unless already installed) as the musl cross linker.
#   2. cargo zigbuild --release -p wxface-cli --target aarch64-unknown-linux-musl; check that the
#      binary is a static aarch64 executable (no program interpreter, no NEEDED libraries) and
#      print its size.
#   3. Start the host-built mock three times (plain HTTP that only accepts rawdata from a face
#      SDK, HTTPS with a test CA, HTTPS with a certificate from another CA) and run the aarch64 `wxface doctor` under
#      qemu-aarch64 against them: all checks pass (exit 0, verdict 无效的RawData数据), over HTTPS
#      with --ca-file (exit 0, TLS step passed), HTTPS presenting a certificate from another CA
#      (--tls-foreign-ca: exit 23, the middlebox CA named), and with a wrong key (exit 25,
#      签名错误). No output may contain either key.
#
# Everything is built under target/cli-cross. Usage: scripts/cli-cross-test.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start_time=$SECONDS
target=aarch64-unknown-linux-musl
target_dir="$root/target/cli-cross"
work="$target_dir/run"
rm -rf "$work"
mkdir -p "$work"

section() { printf '\n== %s\n' "$*"; }

section "tools"
if ! command -v qemu-aarch64 >/dev/null; then
    sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    echo "apt-get install qemu-user"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
fi
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
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
echo "qemu-aarch64, $target, cargo-zigbuild: ready ($((SECONDS - start_time)) s)"

section "build"
t0=$SECONDS
cargo build --release -p wxface-mock --target-dir "$target_dir"
cargo zigbuild --release -p wxface-cli --target "$target" --target-dir "$target_dir"
bin="$target_dir/$target/release/wxface"
mock="$target_dir/release/wxface-mock"
echo "build: $((SECONDS - t0)) s"
header=$(readelf -h "$bin")
grep -q 'AArch64' <<<"$header" || { echo "FAIL: $bin is not an AArch64 executable" >&2; exit 1; }
if readelf -l "$bin" | grep -q 'INTERP'; then
    echo "FAIL: $bin asks for a program interpreter (not static)" >&2
    exit 1
fi
if readelf -d "$bin" 2>/dev/null | grep -q 'NEEDED'; then
    echo "FAIL: $bin needs shared libraries" >&2
    exit 1
fi
size=$(stat -c %s "$bin")
echo "$bin: static AArch64 executable, $size bytes"

section "doctor under qemu-aarch64"
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

failures=0
check() { # description expected-code expected-text key args...
    local what=$1 want=$2 text=$3 k=$4 rc=0 out
    shift 4
    out=$(WXFACE_KEY="$k" WXFACE_MCH_ID=1900000109 WXFACE_APPID=wx2421b1c4370ec43b \
        timeout 300 qemu-aarch64 "$bin" doctor "$@" 2>&1) || rc=$?
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
check "plain HTTP, all checks" 0 "无效的RawData数据" "$key" --base-url "http://127.0.0.1:$strict_port"
check "HTTPS with a custom CA" 0 "issued by CN=wxface-mock test CA" "$key" \
    --base-url "https://localhost:$tls_port" --ca-file "$work/tls/ca.pem"
check "certificate from another CA" 23 "issued by CN=wxface-mock middlebox CA" "$key" \
    --base-url "https://localhost:$foreign_port" --ca-file "$work/foreign/ca.pem"
check "wrong key" 25 "签名错误" "$wrong_key" --base-url "http://127.0.0.1:$strict_port"

section "summary"
echo "wxface ($target): $size bytes, static"
echo "wall time: $((SECONDS - start_time)) s"
if ((failures)); then
    echo "FAILED: $failures check(s)" >&2
    exit 1
fi
echo "all cli cross checks passed"
