#!/usr/bin/env bash
# Cross-build libwxface for ARM Linux terminals and test it under qemu-user (recipe:
# docs/PLATFORMS.md, "Linux on ARM").
#
# For each of aarch64-unknown-linux-gnu and armv7-unknown-linux-gnueabihf:
#   1. cargo build --release --lib --target T; print the size of the (already stripped)
#      libwxface.so.
#   2. Cross-compile examples-c/get_authinfo.c with the target's gcc twice: against
#      libwxface.so (plus its SONAME link) and against libwxface.a (with the libraries from
#      `cargo rustc ... -- --print native-static-libs`). Run both under qemu-user against the
#      host-built mock server: a success (`expires_in: 3600`) and a failure (rawdata
#      MOCK:signed-error -> exit 1 and WXFACE_ERR_REMOTE).
#   3. cargo test --release --lib --target T: the Rust unit tests, run through qemu.
# Optionally, for aarch64 only: a glibc 2.17 build with cargo-zigbuild (pip: ziglang,
# cargo-zigbuild), its highest GLIBC_ symbol version, and the C example run against it.
#
# Everything is built under target/cross (the host build in target/release is not touched).
# Linkers and runners are passed through CARGO_TARGET_<TRIPLE>_LINKER/_RUNNER; nothing is
# written to .cargo/config.toml. Missing tools are installed (apt-get as root, rustup, pip).
#
# Usage: scripts/cross-test.sh [--no-zig]
#   CROSS_TARGETS="aarch64-unknown-linux-gnu"  only some targets
#   ZIG_TIMEOUT=900                            seconds allowed for the optional zigbuild
# Exits non-zero if any mandatory step (build, examples, unit tests) failed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start_time=$SECONDS

with_zig=1
for arg in "$@"; do
    case "$arg" in
        --no-zig) with_zig=0 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

read -r -a targets <<<"${CROSS_TARGETS:-aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf}"
target_dir="$root/target/cross"
state="$target_dir/state"
rm -rf "$state"
mkdir -p "$state"
installed=()

# Per-target tool names.
gnu_triple() {
    case "$1" in
        aarch64-unknown-linux-gnu) echo aarch64-linux-gnu ;;
        armv7-unknown-linux-gnueabihf) echo arm-linux-gnueabihf ;;
        *) echo "unsupported target $1" >&2; return 1 ;;
    esac
}
qemu_bin() {
    case "$1" in
        aarch64-unknown-linux-gnu) echo qemu-aarch64 ;;
        armv7-unknown-linux-gnueabihf) echo qemu-arm ;;
    esac
}
runner_of() { echo "$(qemu_bin "$1") -L /usr/$(gnu_triple "$1")"; }
env_triple() { echo "$1" | tr 'a-z-' 'A-Z_'; }

# Run "$@" in a subshell with errexit in force; the status lands in $try_rc. (errexit is
# ignored inside `if`/`||`, so a step is never called from a condition.)
try() {
    set +e
    (
        set -e
        "$@"
    )
    try_rc=$?
    set -e
}
put() { printf '%s\n' "$2" >"$state/$1"; }
get() { cat "$state/$1" 2>/dev/null || echo "${2:--}"; }
section() { printf '\n== %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
section "tools"
apt_pkgs=()
for t in "${targets[@]}"; do
    g=$(gnu_triple "$t")
    case "$g" in
        aarch64-linux-gnu) libc_pkg=libc6-dev-arm64-cross ;;
        arm-linux-gnueabihf) libc_pkg=libc6-dev-armhf-cross ;;
    esac
    command -v "$g-gcc" >/dev/null || apt_pkgs+=("gcc-$g")
    [[ -f "/usr/$g/include/stdio.h" ]] || apt_pkgs+=("$libc_pkg")
    command -v "$(qemu_bin "$t")" >/dev/null || apt_pkgs+=(qemu-user)
done
if ((${#apt_pkgs[@]})); then
    mapfile -t apt_pkgs < <(printf '%s\n' "${apt_pkgs[@]}" | sort -u)
    echo "apt-get install ${apt_pkgs[*]}"
    sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
    installed+=("apt: ${apt_pkgs[*]}")
else
    echo "cross gcc, cross libc and qemu-user already installed"
fi
missing_targets=()
for t in "${targets[@]}"; do
    rustup target list --installed | grep -qx "$t" || missing_targets+=("$t")
done
if ((${#missing_targets[@]})); then
    echo "rustup target add ${missing_targets[*]}"
    rustup target add "${missing_targets[@]}"
    installed+=("rustup: ${missing_targets[*]}")
else
    echo "rust targets already installed: ${targets[*]}"
fi

for t in "${targets[@]}"; do
    T=$(env_triple "$t")
    export "CARGO_TARGET_${T}_LINKER=$(gnu_triple "$t")-gcc"
    export "CARGO_TARGET_${T}_RUNNER=$(runner_of "$t")"
done

# ---------------------------------------------------------------------------------------------
section "host mock server (cargo build --release -p wxface-mock)"
cargo build --release -p wxface-mock --target-dir "$target_dir"
mock_bin="$target_dir/release/wxface-mock"
# A throwaway 32-character key shared by the mock and the example; never a real merchant key.
mock_key=wxfacedemo0123456789abcdefABCDEF
port_file="$state/mock.port"
"$mock_bin" --key "$mock_key" --port-file "$port_file" 2>"$state/mock.log" &
mock_pid=$!
trap 'kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s "$port_file" ]] && break; sleep 0.1; done
[[ -s "$port_file" ]] || { echo "the mock server did not start; see $state/mock.log" >&2; exit 1; }
port=$(cat "$port_file")
echo "mock listening on http://127.0.0.1:$port (pid $mock_pid)"

# ---------------------------------------------------------------------------------------------
# Steps (each runs in a subshell under `try`).

build_lib() { # target
    local t=$1 so
    # First, so that the `cargo build` below leaves the crate's fingerprint as a plain build
    # (a second run of this script is then a no-op for cargo).
    native_static_libs "$t"
    cargo build --release --lib -p wxface --target "$t" --target-dir "$target_dir"
    so="$target_dir/$t/release/libwxface.so"
    if "$(gnu_triple "$t")-readelf" -S "$so" | grep -q '\.symtab'; then
        echo "warning: $so still has a symbol table"
    fi
    put "$t.size" "$(stat -c %s "$so")"
    echo "$t: libwxface.so $(get "$t.size") bytes (stripped by the release profile)"
}

# `cargo rustc ... --print native-static-libs` rebuilds the crate (the extra argument changes
# its fingerprint), so the answer is cached per toolchain and Cargo.lock in target/cross.
native_static_libs() { # target
    local t=$1 cache key out libs
    cache="$target_dir/$t/native-static-libs"
    key="$(rustc -vV | sha256sum | cut -c1-16)-$(sha256sum Cargo.lock | cut -c1-16)"
    if [[ -f "$cache" && "$(head -n1 "$cache")" == "$key" ]]; then
        libs=$(sed -n 2p "$cache")
    else
        out=$(cargo rustc --release --lib -p wxface --target "$t" --target-dir "$target_dir" \
            -- --print native-static-libs 2>&1) || { echo "$out"; return 1; }
        libs=$(printf '%s\n' "$out" | sed -n 's/.*native-static-libs: //p' | tail -n1)
        [[ -n "$libs" ]] || { echo "$out"; echo "no native-static-libs line" >&2; return 1; }
        printf '%s\n%s\n' "$key" "$libs" >"$cache"
    fi
    put "$t.static-libs" "$libs"
    echo "$t: native-static-libs: $libs"
}

compile_example() { # target variant(shared|static) libdir
    local t=$1 variant=$2 libdir=$3 g out soname
    g=$(gnu_triple "$t")
    mkdir -p "$libdir/c"
    out="$libdir/c/get_authinfo-$variant"
    if [[ "$variant" == shared ]]; then
        soname=$("$g-readelf" -d "$libdir/libwxface.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
        [[ -n "$soname" ]] || { echo "libwxface.so has no SONAME" >&2; return 1; }
        ln -sf libwxface.so "$libdir/$soname"
        "$g-gcc" -std=c99 -Wall -Wextra -Werror -Iinclude examples-c/get_authinfo.c \
            -L"$libdir" -lwxface -Wl,-rpath,"$libdir" -o "$out"
        echo "$t: built $out (needs $soname)"
    else
        # shellcheck disable=SC2046 # the library list is split on purpose
        "$g-gcc" -std=c99 -Wall -Wextra -Werror -Iinclude examples-c/get_authinfo.c \
            "$libdir/libwxface.a" $(get "$t.static-libs" "") -o "$out"
        echo "$t: built $out ($(stat -c %s "$out") bytes, libwxface linked in)"
    fi
}

run_example() { # target binary rawdata -> prints output, returns the exit code
    local t=$1 bin=$2 rawdata=$3 rc=0
    # shellcheck disable=SC2046
    WXFACE_MCH_ID=1900000109 \
        WXFACE_APPID=wx2421b1c4370ec43b \
        WXFACE_KEY="$mock_key" \
        WXFACE_BASE_URL="http://127.0.0.1:$port" \
        WXFACE_STORE_ID=1001 \
        WXFACE_STORE_NAME="深圳南山科技园店" \
        WXFACE_DEVICE_ID=POS-01 \
        WXFACE_RAWDATA="$rawdata" \
        timeout 120 $(runner_of "$t") "$bin" 2>&1 || rc=$?
    return "$rc"
}

check_example() { # target variant libdir
    local t=$1 variant=$2 libdir=$3 bin out rc
    compile_example "$t" "$variant" "$libdir"
    bin="$libdir/c/get_authinfo-$variant"

    rc=0
    out=$(run_example "$t" "$bin" "cross+rawdata/from=the-face-sdk") || rc=$?
    printf '%s\n' "$out" | sed 's/^/    /'
    [[ $rc -eq 0 ]] || { echo "FAIL: $t $variant: success case exited $rc" >&2; return 1; }
    grep -q 'expires_in: 3600' <<<"$out" || { echo "FAIL: $t $variant: no 'expires_in: 3600'" >&2; return 1; }
    echo "$t $variant: success case OK"

    rc=0
    out=$(run_example "$t" "$bin" "MOCK:signed-error") || rc=$?
    printf '%s\n' "$out" | sed 's/^/    /'
    [[ $rc -eq 1 ]] || { echo "FAIL: $t $variant: MOCK:signed-error exited $rc, expected 1" >&2; return 1; }
    grep -q 'WXFACE_ERR_REMOTE' <<<"$out" || { echo "FAIL: $t $variant: no WXFACE_ERR_REMOTE" >&2; return 1; }
    echo "$t $variant: failure case (MOCK:signed-error -> exit 1, WXFACE_ERR_REMOTE) OK"
}

unit_tests() { # target
    local t=$1 log=$state/$1.test.log t0=$SECONDS rc=0 passed failed
    cargo test --release --lib -p wxface --target "$t" --target-dir "$target_dir" 2>&1 | tee "$log" || rc=$?
    passed=$(sed -n 's/^test result: .* \([0-9][0-9]*\) passed;.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    failed=$(sed -n 's/^test result: .* \([0-9][0-9]*\) failed;.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    put "$t.tests" "$passed passed, $failed failed ($((SECONDS - t0)) s)"
    echo "$t: unit tests under $(qemu_bin "$t"): $(get "$t.tests")"
    [[ $rc -eq 0 && $failed -eq 0 && $passed -gt 0 ]]
}

# ---------------------------------------------------------------------------------------------
failures=()
for t in "${targets[@]}"; do
    libdir="$target_dir/$t/release"
    section "$t: cargo build --release --lib"
    try build_lib "$t"
    if ((try_rc)); then
        failures+=("$t build")
        put "$t.static" "skipped"
        put "$t.shared" "skipped"
    else
        section "$t: C example, shared (libwxface.so)"
        try check_example "$t" shared "$libdir"
        if ((try_rc)); then put "$t.shared" FAIL; failures+=("$t shared example"); else put "$t.shared" ok; fi

        section "$t: C example, static (libwxface.a)"
        try check_example "$t" static "$libdir"
        if ((try_rc)); then put "$t.static" FAIL; failures+=("$t static example"); else put "$t.static" ok; fi
    fi

    section "$t: cargo test --release --lib (runner: $(runner_of "$t"))"
    try unit_tests "$t"
    if ((try_rc)); then
        failures+=("$t unit tests")
        [[ -s "$state/$t.tests" ]] || put "$t.tests" "FAIL"
        put "$t.tests" "FAIL: $(get "$t.tests")"
    fi
done

# ---------------------------------------------------------------------------------------------
# Optional: glibc 2.17 build of the aarch64 library with cargo-zigbuild.
zig_target=aarch64-unknown-linux-gnu
zig_note=""
zig_build() {
    local t=$zig_target zdir="$target_dir/zig" so g glibc
    g=$(gnu_triple "$t")
    # cargo-zigbuild sets its own linker and CC for the target; drop ours.
    env -u "CARGO_TARGET_$(env_triple "$t")_LINKER" \
        timeout "${ZIG_TIMEOUT:-900}" cargo zigbuild --release --lib -p wxface \
        --target "$t.2.17" --target-dir "$zdir"
    so="$zdir/$t/release/libwxface.so"
    glibc=$("$g-objdump" -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
    put zig.size "$(stat -c %s "$so")"
    put zig.glibc "$glibc"
    echo "$t.2.17: libwxface.so $(get zig.size) bytes, highest symbol version needed: $glibc"
    check_example "$t" shared "$zdir/$t/release"
}
if ((with_zig == 0)); then
    zig_note="skipped (--no-zig)"
elif [[ " ${targets[*]} " != *" $zig_target "* ]]; then
    zig_note="skipped ($zig_target not among CROSS_TARGETS)"
else
    section "optional: $zig_target.2.17 with cargo-zigbuild"
    scripts_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
    [[ -n "$scripts_dir" ]] && export PATH="$PATH:$scripts_dir"
    have_zig=1
    if ! command -v cargo-zigbuild >/dev/null || ! { command -v zig >/dev/null || python3 -c 'import ziglang' 2>/dev/null; }; then
        echo "pip install ziglang cargo-zigbuild"
        if python3 -m pip install -q ziglang cargo-zigbuild; then
            installed+=("pip: ziglang cargo-zigbuild")
            hash -r
        else
            have_zig=0
        fi
    fi
    if ((have_zig)) && command -v cargo-zigbuild >/dev/null; then
        try zig_build
        if ((try_rc)); then
            zig_note="FAILED or timed out (optional step, not counted; see the log above)"
        else
            zig_note="ok: $(get zig.size) bytes, needs at most $(get zig.glibc), C example ok under qemu"
        fi
    else
        zig_note="skipped: ziglang/cargo-zigbuild could not be installed with pip"
    fi
    echo "glibc 2.17 build: $zig_note"
fi

# ---------------------------------------------------------------------------------------------
section "summary"
fmt='%-32s %14s %14s %14s  %s\n'
# shellcheck disable=SC2059
printf "$fmt" target ".so bytes" "static ex." "shared ex." "unit tests"
for t in "${targets[@]}"; do
    # shellcheck disable=SC2059
    printf "$fmt" "$t" "$(get "$t.size")" "$(get "$t.static")" "$(get "$t.shared")" "$(get "$t.tests")"
done
if [[ -f "$state/zig.size" ]]; then
    # shellcheck disable=SC2059
    printf "$fmt" "$zig_target.2.17" "$(get zig.size)" "-" \
        "$([[ $zig_note == ok* ]] && echo ok || echo FAIL)" "(optional; $(get zig.glibc))"
fi
echo
echo "glibc 2.17 (optional): ${zig_note:-not run}"
if ((${#installed[@]})); then
    echo "installed by this run: $(IFS=';'; echo "${installed[*]}")"
else
    echo "installed by this run: nothing (all tools present)"
fi
echo "wall time: $((SECONDS - start_time)) s"
if ((${#failures[@]})); then
    echo "FAILED: $(IFS=','; echo "${failures[*]}")" >&2
    exit 1
fi
echo "all mandatory cross checks passed"
