#!/usr/bin/env bash
# make dist-test: checks the release archives the way a firmware integrator uses them.
#
# For each target (default: all of scripts/dist.sh's; or name some as arguments), builds the
# archive with scripts/dist.sh if dist/ lacks it, verifies it against dist/SHA256SUMS, unpacks it
# into a temporary prefix and:
#   glibc   checks with objdump -T that libwxface.so needs no GLIBC_ symbol version above 2.17
#           and exports only wxface_* at WXFACE_0.1, SONAME libwxface.so.0.<minor>;
#   all     builds examples-c/get_authinfo.c with the target's C compiler (Debian's cross gcc
#           for glibc, zig cc for musl) through pkg-config (shared for glibc, static for musl)
#           and through CMake find_package (wxface::wxface and wxface::wxface_static), and runs
#           each program under qemu-user (natively on x86_64) against the mock server on
#           127.0.0.1: an authinfo with expires_in 3600, and WXFACE_ERR_REMOTE with exit 1 for
#           a rawdata the mock refuses;
#   musl    also runs the archive's own static bin/get_authinfo.
# Installs what is missing: cmake, pkg-config, qemu-user, cross gcc and libc (apt).
# Ends with "dist-test: N passed, N failed".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

all_targets=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf
    x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf)
case "${1:-}" in -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")
start=$SECONDS
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
minor=${version#*.}
minor=${minor%%.*}
soname="libwxface.so.0.$minor"

# ---- tools
apt_pkgs=()
command -v cmake >/dev/null || apt_pkgs+=(cmake)
command -v pkg-config >/dev/null || apt_pkgs+=(pkg-config)
for t in "${targets[@]}"; do
    case "$t" in
        aarch64-*) command -v qemu-aarch64 >/dev/null || apt_pkgs+=(qemu-user) ;;
        armv7-*) command -v qemu-arm >/dev/null || apt_pkgs+=(qemu-user) ;;
    esac
    case "$t" in
        aarch64-unknown-linux-gnu)
            command -v aarch64-linux-gnu-gcc >/dev/null || apt_pkgs+=(gcc-aarch64-linux-gnu)
            [[ -f /usr/aarch64-linux-gnu/include/stdio.h ]] || apt_pkgs+=(libc6-dev-arm64-cross) ;;
        armv7-unknown-linux-gnueabihf)
            command -v arm-linux-gnueabihf-gcc >/dev/null || apt_pkgs+=(gcc-arm-linux-gnueabihf)
            [[ -f /usr/arm-linux-gnueabihf/include/stdio.h ]] || apt_pkgs+=(libc6-dev-armhf-cross) ;;
    esac
done
if ((${#apt_pkgs[@]})); then
    mapfile -t apt_pkgs < <(printf '%s\n' "${apt_pkgs[@]}" | sort -u)
    echo "dist-test: apt-get install ${apt_pkgs[*]}"
    sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi

# ---- archives
missing=()
for t in "${targets[@]}"; do
    [[ -f "dist/wxface-$version-$t.tar.gz" ]] || missing+=("$t")
done
((${#missing[@]} == 0)) || bash scripts/dist.sh "${missing[@]}"
scripts_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
export PATH="$PATH:$scripts_dir"

work="$(mktemp -d)"
mock_pid=""
cleanup() {
    [[ -n "${mock_fd:-}" ]] && exec {mock_fd}>&- 2>/dev/null
    if [[ -n "$mock_pid" ]]; then
        kill "$mock_pid" 2>/dev/null || true
        wait "$mock_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== mock server (host build)"
cargo build --release -p wxface-mock >"$work/mock-build.log" 2>&1 || { cat "$work/mock-build.log"; exit 1; }
key=wxfacedemo0123456789abcdefABCDEF
mkfifo "$work/mock.stdin"
target/release/wxface-mock --bind 127.0.0.1:0 --key "$key" --port-file "$work/mock.port" \
    --exit-on-stdin-eof <"$work/mock.stdin" >"$work/mock.log" 2>&1 &
mock_pid=$!
exec {mock_fd}>"$work/mock.stdin"
for _ in $(seq 100); do [[ -s "$work/mock.port" ]] && break; sleep 0.1; done
[[ -s "$work/mock.port" ]] || { cat "$work/mock.log"; echo "dist-test: the mock did not start" >&2; exit 1; }
base_url="http://127.0.0.1:$(cat "$work/mock.port")"

passed=0
failed=0
check() { # name function args...
    local name=$1 rc summary
    shift
    set +e
    (
        set -e
        "$@"
    ) >"$work/check.log" 2>&1
    rc=$?
    set -e
    if ((rc == 0)); then
        passed=$((passed + 1))
        summary=$(sed -n 's/^summary: //p' "$work/check.log" | tail -n1)
        echo "ok   $name${summary:+ ($summary)}"
    else
        failed=$((failed + 1))
        echo "FAIL $name"
        sed 's/^/     /' "$work/check.log"
    fi
}
fail() { echo "$*" >&2; return 1; }

# Per-target tools.
cc_of() { # target -> C compiler command (one executable)
    case "$1" in
        x86_64-unknown-linux-gnu) echo cc ;;
        aarch64-unknown-linux-gnu) echo aarch64-linux-gnu-gcc ;;
        armv7-unknown-linux-gnueabihf) echo arm-linux-gnueabihf-gcc ;;
        *-musl*)
            local z w
            case "$1" in
                x86_64-*) z=x86_64-linux-musl ;;
                aarch64-*) z=aarch64-linux-musl ;;
                armv7-*) z=arm-linux-musleabihf ;;
            esac
            w="$work/zig-cc-$z"
            printf '#!/bin/sh\nexec python3 -m ziglang cc -target %s "$@"\n' "$z" >"$w"
            chmod +x "$w"
            echo "$w"
            ;;
    esac
}
runner_of() { # target [libdir] -> command prefix
    case "$1" in
        x86_64-*) echo "" ;;
        aarch64-unknown-linux-gnu) echo "qemu-aarch64 -L /usr/aarch64-linux-gnu" ;;
        armv7-unknown-linux-gnueabihf) echo "qemu-arm -L /usr/arm-linux-gnueabihf" ;;
        aarch64-*) echo "qemu-aarch64" ;;
        armv7-*) echo "qemu-arm" ;;
    esac
}
objdump_of() {
    case "$1" in
        x86_64-*) echo objdump ;;
        aarch64-*) echo aarch64-linux-gnu-objdump ;;
        armv7-*) echo arm-linux-gnueabihf-objdump ;;
    esac
}

# run_example TARGET BINARY [env...]: success against the mock, then a refused rawdata.
run_example() {
    local t=$1 bin=$2 out rc=0
    shift 2
    local -a runner
    read -r -a runner <<<"$(runner_of "$t")"
    local -a common=(WXFACE_MCH_ID=1900000109 WXFACE_APPID=wx2421b1c4370ec43b WXFACE_KEY="$key"
        WXFACE_BASE_URL="$base_url" WXFACE_STORE_ID=1001 WXFACE_STORE_NAME="深圳南山科技园店"
        WXFACE_DEVICE_ID=POS-01)
    out=$(env "$@" "${common[@]}" WXFACE_RAWDATA="dist+test/rawdata=" timeout 120 "${runner[@]}" "$bin" 2>&1) ||
        fail "$bin: success case failed: $out"
    grep -q '^expires_in: 3600$' <<<"$out" || fail "$bin: no 'expires_in: 3600' in: $out"
    out=$(env "$@" "${common[@]}" WXFACE_RAWDATA="MOCK:signed-error" timeout 120 "${runner[@]}" "$bin" 2>&1) || rc=$?
    ((rc == 1)) || fail "$bin: refused rawdata exited $rc, expected 1: $out"
    grep -q 'WXFACE_ERR_REMOTE' <<<"$out" || fail "$bin: no WXFACE_ERR_REMOTE in: $out"
    echo "$bin: success and WXFACE_ERR_REMOTE as expected${runner[0]:+ under ${runner[0]}}"
}

test_target() { # target
    local t=$1 name="wxface-$version-$t" prefix cc od glibc others unversioned kind
    prefix="$work/$t/$name"
    mkdir -p "$work/$t"
    (cd dist && grep " $name.tar.gz\$" SHA256SUMS | sha256sum -c --quiet -) || fail "checksum mismatch for $name.tar.gz"
    tar -xzf "dist/$name.tar.gz" -C "$work/$t"
    for f in include/wxface.h lib/libwxface.a lib/pkgconfig/wxface.pc lib/cmake/wxface/wxfaceConfig.cmake \
        lib/cmake/wxface/wxfaceConfigVersion.cmake README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE \
        examples-c/get_authinfo.c; do
        [[ -e "$prefix/$f" ]] || fail "$name lacks $f"
    done
    cc=$(cc_of "$t")
    od=$(objdump_of "$t")
    export PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" # only the archive's .pc, none of the host's
    if [[ "$t" == *-musl* ]]; then
        kind=static
        [[ ! -e "$prefix/lib/libwxface.so" ]] || fail "a musl archive with a shared library"
        # shellcheck disable=SC2046 # the flags are split on purpose
        "$cc" -std=c99 -Wall -Werror -static examples-c/get_authinfo.c \
            $(pkg-config --cflags --libs --static wxface) -o "$work/$t/app-pc"
        run_example "$t" "$work/$t/app-pc"
        run_example "$t" "$prefix/bin/get_authinfo"
    else
        kind=shared
        local so="$prefix/lib/libwxface.so.$version"
        [[ "$(readlink "$prefix/lib/$soname")" == "libwxface.so.$version" ]] || fail "$soname link wrong"
        [[ "$(readlink "$prefix/lib/libwxface.so")" == "$soname" ]] || fail "libwxface.so link wrong"
        glibc=$("$od" -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n1)
        [[ -n "$glibc" ]] || fail "no GLIBC_ versions read from $so"
        printf '%s\n' "$glibc" GLIBC_2.17 | sort -CV || fail "$so needs $glibc (> GLIBC_2.17)"
        others=$("$od" -T "$so" | awk '$2 == "g" && $4 != "*UND*" && $NF !~ /^wxface_/ && $NF != "WXFACE_0.1"')
        [[ -z "$others" ]] || fail "$so exports more than wxface_*: $others"
        unversioned=$("$od" -T "$so" | awk '$NF ~ /^wxface_/ && $(NF-1) != "WXFACE_0.1"')
        [[ -z "$unversioned" ]] || fail "unversioned exports: $unversioned"
        # shellcheck disable=SC2046
        "$cc" -std=c99 -Wall -Werror examples-c/get_authinfo.c $(pkg-config --cflags --libs wxface) \
            -o "$work/$t/app-pc"
        run_example "$t" "$work/$t/app-pc" LD_LIBRARY_PATH="$prefix/lib"
    fi
    # CMake, cross-compiling with the same compiler (musl programs linked statically).
    local ldflags=""
    [[ "$kind" == static ]] && ldflags=-static
    cmake -S tests/ship -B "$work/$t/cmake" -DCMAKE_C_COMPILER="$cc" -DCMAKE_SYSTEM_NAME=Linux \
        -DCMAKE_SYSTEM_PROCESSOR="${t%%-*}" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_EXE_LINKER_FLAGS="$ldflags" >"$work/$t/cmake.log" 2>&1 ||
        { cat "$work/$t/cmake.log"; fail "cmake configure failed"; }
    cmake --build "$work/$t/cmake" >>"$work/$t/cmake.log" 2>&1 || { cat "$work/$t/cmake.log"; fail "cmake build failed"; }
    run_example "$t" "$work/$t/cmake/get_authinfo_cmake" LD_LIBRARY_PATH="$prefix/lib"
    run_example "$t" "$work/$t/cmake/get_authinfo_cmake_static"
    echo "summary: $(stat -c %s "dist/$name.tar.gz") bytes${glibc:+, needs at most $glibc}, pkg-config and CMake builds ran"
}

for t in "${targets[@]}"; do
    check "$t" test_target "$t"
done
echo "dist-test: $((SECONDS - start)) s"
echo "dist-test: $passed passed, $failed failed"
((failed == 0))
