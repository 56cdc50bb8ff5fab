# shellcheck shell=bash
# Sourced by the scripts (`source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"`), never run. It is the
# one place for what they share: the repository root (the working directory afterwards), the
# version and SONAME, the target triple table, installing missing tools, the mock server started
# for a script's lifetime, and the ok/FAIL check harness. `-h`/`--help` prints the calling
# script's header comment.
set -euo pipefail
caller_dir=$PWD
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
case " $* " in *" -h "* | *" --help "*) sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac

# The release of Cargo.toml and the SONAME programs record: libwxface.so.0.<minor> while 0.x, then
# libwxface.so.<major> (build.rs computes the same name for cargo's build; ship-test compares).
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
if [[ "$major" == 0 ]]; then soname="libwxface.so.0.$minor"; else soname="libwxface.so.$major"; fi
cargo_dir="${CARGO_TARGET_DIR:-$root/target}"
host=$(rustc -vV | sed -n 's/^host: //p')
# The Linux targets of the release archives (scripts/dist.sh), in their order.
linux_targets=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf
    x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf)

# target TRIPLE: sets what the scripts need to know about a Linux target:
#   gnu     Debian's name for its cross tools (aarch64-linux-gnu: aarch64-linux-gnu-gcc, the
#           libc in /usr/aarch64-linux-gnu, package gcc-aarch64-linux-gnu)
#   tools   the prefix of its binutils and gcc ("" on the host's own architecture)
#   zig     the target zig cc takes (the glibc version is appended for old-glibc builds)
#   runner  the command that runs its programs here ("" natively, else qemu-user; for glibc with
#           -L pointing at Debian's cross libc)
#   ptr     the size of a pointer
target() {
    local arch=${1%%-*} libc=gnu
    [[ " ${linux_targets[*]} " == *" $1 "* ]] || { echo "${0##*/}: unsupported target $1" >&2; return 2; }
    [[ "$1" == *-musl* ]] && libc=musl
    case "$arch" in
        x86_64) gnu=x86_64-linux-gnu zig=x86_64-linux-$libc ptr=8 qemu="" ;;
        aarch64) gnu=aarch64-linux-gnu zig=aarch64-linux-$libc ptr=8 qemu=qemu-aarch64 ;;
        armv7) gnu=arm-linux-gnueabihf zig=arm-linux-${libc}eabihf ptr=4 qemu=qemu-arm ;;
    esac
    tools="$gnu-"
    [[ "$arch" == "${host%%-*}" ]] && tools=""
    runner=$qemu
    [[ -n "$qemu" && "$libc" == gnu ]] && runner="$qemu -L /usr/$gnu"
    return 0
}

# android_abi ABI: sets triple (Rust's), clang (clang's target, the API level appended) and col
# (the ABI's column in android/symbols.tsv) for arm64-v8a, armeabi-v7a, x86_64 or x86.
android_abi() {
    case "$1" in
        arm64-v8a) triple=aarch64-linux-android clang=aarch64-linux-android col=5 ;;
        armeabi-v7a) triple=armv7-linux-androideabi clang=armv7a-linux-androideabi col=6 ;;
        x86_64) triple=x86_64-linux-android clang=x86_64-linux-android col=7 ;;
        x86) triple=i686-linux-android clang=i686-linux-android col=8 ;;
        *) echo "${0##*/}: unknown ABI $1" >&2; return 2 ;;
    esac
}

# android_cflags ABI API: what the NDK adds to C code for that ABI and minimum API level:
# -mstackrealign on x86 below API 24, whose devices do not all keep the stack 16-byte aligned
# (b.android.com/222239). Used for ring and libunwind, with the NDK or the stub sysroot.
android_cflags() { if [[ "$1" == x86 && "$2" -lt 24 ]]; then echo -mstackrealign; fi; }

# need PACKAGE[:COMMAND|:/FILE]...: apt-get installs each package whose command (default: the
# package's name) or file is missing (as root, else through sudo).
need() {
    local p w pkgs=() sudo=""
    for p in "$@"; do
        w=${p#*:} p=${p%%:*}
        if [[ "$w" == /* ]]; then [[ -e "$w" ]] && continue; else command -v "$w" >/dev/null && continue; fi
        [[ " ${pkgs[*]} " == *" $p "* ]] || pkgs+=("$p")
    done
    ((${#pkgs[@]})) || return 0
    echo "${0##*/}: apt-get install ${pkgs[*]}"
    [[ "$(id -u)" -eq 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}
# need_cross TRIPLE [gcc] [qemu]: Debian's cross binutils for the target (stage.sh uses them),
# with `gcc` its cross gcc and libc, with `qemu` qemu-user; and the rustup target (nightly with
# rust-src for armv7 musl, which has no prebuilt std).
need_cross() {
    local t=$1 libc_pkg
    shift
    target "$t"
    local pkgs=()
    if [[ -n "$tools" ]]; then
        pkgs+=("binutils-$gnu:$gnu-objcopy")
        libc_pkg=libc6-dev-$([[ $gnu == aarch64* ]] && echo arm64 || echo armhf)-cross
        [[ " $* " == *" gcc "* ]] && pkgs+=("gcc-$gnu:$gnu-gcc" "$libc_pkg:/usr/$gnu/include/stdio.h")
    fi
    [[ " $* " == *" qemu "* && -n "$qemu" ]] && pkgs+=("qemu-user:$qemu")
    need "${pkgs[@]}"
    if [[ "$t" == armv7-unknown-linux-musleabihf ]]; then
        rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
        rustup +nightly component add rust-src
    elif ! rustup target list --installed | grep -qx "$t"; then
        rustup target add "$t"
    fi
}
# need_zig: cargo-zigbuild and zig (PyPI's ziglang, run as `python3 -m ziglang`), installed with
# pip into target/zig-venv when missing (Debian's system Python refuses pip outside a venv).
need_zig() {
    local venv="$root/target/zig-venv" scripts
    scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
    export PATH="$venv/bin:$PATH${scripts:+:$scripts}"
    command -v cargo-zigbuild >/dev/null && python3 -c 'import ziglang' 2>/dev/null && return 0
    python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null || need python3-venv:/usr/lib/python3/dist-packages/venv
    echo "${0##*/}: pip install ziglang cargo-zigbuild (into $venv)"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q ziglang cargo-zigbuild
    hash -r
}

# A scratch directory (unless the script set $work) and the EXIT trap that removes it and stops
# the mocks.
[[ -n "${work:-}" ]] || { work="$(mktemp -d)" && own_work=1; }
mkdir -p "$work"
mock_pids=() mock_fds=()
on_exit() {
    local fd pid
    for fd in "${mock_fds[@]}"; do exec {fd}>&- 2>/dev/null || true; done
    for pid in "${mock_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    [[ -z "${own_work:-}" ]] || rm -rf "$work"
}
trap on_exit EXIT

# The throwaway 32-character key the mocks and the examples share; never a real merchant key.
key=wxfacedemo0123456789abcdefABCDEF
# mock NAME [wxface-mock options...]: starts the mock server (built with `cargo build --release
# -p wxface-mock` the first time; $mock_bin overrides it) on a free loopback port with $key,
# logging to $work/NAME.log; sets port and base_url. It stops when the script exits, and on its
# own if the script is killed (its stdin, a fifo this shell holds open, reaches EOF).
mock() {
    local name=$1 fd
    shift
    if [[ -z "${mock_bin:-}" ]]; then
        cargo build --release -p wxface-mock >"$work/mock-build.log" 2>&1 || { cat "$work/mock-build.log" >&2; exit 1; }
        mock_bin="$cargo_dir/release/wxface-mock"
    fi
    rm -f "$work/$name.port" "$work/$name.stdin" # a directory kept between runs (demo, bench)
    mkfifo "$work/$name.stdin"
    "$mock_bin" --bind 127.0.0.1:0 --key "$key" --port-file "$work/$name.port" --exit-on-stdin-eof "$@" \
        <"$work/$name.stdin" >"$work/$name.log" 2>&1 &
    mock_pids+=($!)
    exec {fd}>"$work/$name.stdin"
    mock_fds+=("$fd")
    for _ in $(seq 100); do [[ -s "$work/$name.port" ]] && break; sleep 0.1; done
    [[ -s "$work/$name.port" ]] || { cat "$work/$name.log" >&2; echo "${0##*/}: mock $name did not start" >&2; exit 1; }
    port=$(tr -d '[:space:]' <"$work/$name.port")
    base_url="http://127.0.0.1:$port"
}

# header_functions: the functions include/wxface.h declares, sorted: what every library exports.
header_functions() { grep -oE '\bwxface_[a-z0-9_]+\(' "$root/include/wxface.h" | tr -d '(' | sort -u; }

# so_chain LIBDIR [OBJDUMP]: libwxface.so -> $soname -> libwxface.so.$version in LIBDIR, and every
# wxface_* that library exports at version WXFACE_0.1.
so_chain() {
    local so="$1/libwxface.so.$version" bad
    [[ "$(readlink "$1/$soname")" == "libwxface.so.$version" ]] || fail "$1/$soname link wrong"
    [[ "$(readlink "$1/libwxface.so")" == "$soname" ]] || fail "$1/libwxface.so link wrong"
    bad=$("${2:-objdump}" -T "$so" | awk '$NF ~ /^wxface_/ && $(NF-1) != "WXFACE_0.1"')
    [[ -z "$bad" ]] || fail "$so: exports without version WXFACE_0.1: $bad"
}

# run_example BINARY [ENV...]: a build of examples-c/get_authinfo.c, run ($runner, from `target`,
# in front) against the mock at $base_url: it must print an authinfo with expires_in 3600, and for
# a rawdata the mock refuses exit 1 with WXFACE_ERR_REMOTE.
run_example() {
    local bin=$1 out rc=0 r
    shift
    read -r -a r <<<"${runner:-}"
    local -a env=("$@" WXFACE_MCH_ID=1900000109 WXFACE_APPID=wx2421b1c4370ec43b WXFACE_KEY="$key"
        WXFACE_BASE_URL="$base_url" WXFACE_STORE_ID=1001 WXFACE_STORE_NAME="深圳南山科技园店"
        WXFACE_DEVICE_ID=POS-01)
    out=$(env "${env[@]}" WXFACE_RAWDATA="ship+test/rawdata=" timeout 120 "${r[@]}" "$bin" 2>&1) ||
        fail "$bin failed: $out"
    has -x 'expires_in: 3600' <<<"$out" || fail "$bin: no 'expires_in: 3600' in: $out"
    has '^authinfo: MOCKAUTHINFO' <<<"$out" || fail "$bin: no authinfo in: $out"
    out=$(env "${env[@]}" WXFACE_RAWDATA="MOCK:signed-error" timeout 120 "${r[@]}" "$bin" 2>&1) || rc=$?
    ((rc == 1)) || fail "$bin: a refused rawdata exited $rc, expected 1: $out"
    has WXFACE_ERR_REMOTE <<<"$out" || fail "$bin: no WXFACE_ERR_REMOTE in: $out"
    echo "$bin: an authinfo, and WXFACE_ERR_REMOTE for a refused rawdata${r[0]:+ (under ${r[0]})}"
}

# cmake_examples PREFIX DIR [CMAKE-ARGS...]: builds tests/ship in DIR with find_package(wxface)
# from PREFIX and runs both programs: get_authinfo_cmake (wxface::wxface: it needs $soname when
# PREFIX has the shared library) and get_authinfo_cmake_static (wxface::wxface_static: no libwxface).
cmake_examples() {
    local prefix=$1 dir=$2
    shift 2
    { cmake -S tests/ship -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release "$@" &&
        cmake --build "$dir"; } >"$dir.log" 2>&1 || { cat "$dir.log"; fail "cmake failed"; }
    run_example "$dir/get_authinfo_cmake" LD_LIBRARY_PATH="$prefix/lib"
    [[ ! -e "$prefix/lib/libwxface.so" ]] || readelf -d "$dir/get_authinfo_cmake" | has "Shared library: \[$soname\]" ||
        fail "the CMake shared build does not need $soname"
    run_example "$dir/get_authinfo_cmake_static"
    ! readelf -d "$dir/get_authinfo_cmake_static" | has libwxface || fail "the CMake static build needs libwxface.so"
}

# check NAME COMMAND [ARGS...]: runs the command (a shell function, typically) in a subshell with
# errexit in force; prints "ok NAME (its last 'summary: ' line)" or "FAIL NAME" and its output
# (ok/ko count a result directly). `finish` prints the totals and fails if any check did.
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
ko() { failed=$((failed + 1)); echo "FAIL $*"; }
check() {
    local name=$1 rc
    shift
    set +e
    (set -e; "$@") >"$work/check.log" 2>&1
    rc=$?
    set -e
    if ((rc == 0)); then
        ok "$name$(sed -n 's/^summary: \(.*\)/ (\1)/p' "$work/check.log" | tail -n1)"
    else
        ko "$name"
        sed 's/^/     /' "$work/check.log"
    fi
}
finish() { echo "${0##*/}: $passed passed, $failed failed"; ((failed == 0)); }
fail() { echo "$*" >&2; return 1; }
# grep -q stops reading at the first match; under pipefail the writer's SIGPIPE would then fail
# the pipeline, so matches on a command's output read it all.
has() { grep "$@" >/dev/null; }
