#!/usr/bin/env bash
# make ship-test (part of make test): what a firmware integrator gets from `make lib`,
# `make install` and a plain `cargo build`, checked the way they would use it.
#
#   readme-repo     docs/c-api.md's Linking block, pasted verbatim; every program it builds runs
#                   against the mock (an authinfo, expires_in 3600; WXFACE_ERR_REMOTE when refused)
#   exports         the shared libraries (staged and cargo's) define only wxface_* (and Java_*,
#                   JNI_On* with the jni feature), exactly the functions of include/wxface.h
#   symver-soname   every export carries the version WXFACE_0.1; SONAME libwxface.so.0.<minor>;
#                   the .so.<version> <- .so.0.<minor> <- .so chain
#   static-archive  libwxface.a: no debug sections, only wxface_* global
#   two-rust-libs   a C program links libwxface.a and a second Rust staticlib, and runs
#   version-macros  WXFACE_VERSION_* of the header == wxface_version() of the library
#   install         make install DESTDIR PREFIX=/usr: exactly the documented files; the
#                   pkg-config line of the issue builds and runs; docs/c-api.md's sysroot block
#                   pasted verbatim; CMake find_package with wxface::wxface and
#                   wxface::wxface_static; make uninstall leaves nothing behind
#
# Needs cc, pkg-config, cmake, rustc (.ci/run installs them). Ends with "N passed, N failed".
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for tool in cc pkg-config cmake rustc nm objdump readelf; do
    command -v "$tool" >/dev/null || { echo "ship-test: $tool not found (bash .ci/run installs it)" >&2; exit 1; }
done
stage="$root/build/lib"
echo "== building the mock server (the library is staged by the first check, with make lib)"
mock ship

# readme_block MARKER: the lines of the fenced block of docs/c-api.md after "<!-- ship-test: MARKER -->".
readme_block() {
    awk -v m="<!-- ship-test: $1 -->" '
        $0 == m { armed = 1; next }
        armed && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' docs/c-api.md
}

# Runs each line of a docs/c-api.md block in bash (cwd and environment as given); after a `cc` line,
# runs the program it wrote (-o) against the mock.
run_block() { # marker dir [env...]
    local marker=$1 dir=$2 line out_bin count=0
    shift 2
    local lines
    mapfile -t lines < <(readme_block "$marker")
    ((${#lines[@]} > 0)) || fail "docs/c-api.md has no block marked <!-- ship-test: $marker -->"
    for line in "${lines[@]}"; do
        [[ -z "$line" || "$line" == \#* ]] && continue
        echo "\$ $line"
        # `make` lines are run in this repository, the others where the user's program is.
        local cwd=$dir
        [[ "$line" == make\ * ]] && cwd=$root
        (cd "$cwd" && env "$@" bash -euo pipefail -c "$line") || fail "docs/c-api.md line failed: $line"
        count=$((count + 1))
        if [[ "$line" == cc\ * ]]; then
            out_bin=$(sed -n 's/.* -o \([^ ]*\).*/\1/p' <<<"$line")
            [[ "$out_bin" == /* ]] || out_bin="$dir/$out_bin"
            run_example "$out_bin" "$@"
        fi
    done
    echo "summary: $count lines"
}

# --------------------------------------------------------------------------------------------
readme_repo() {
    rm -f build/app-shared build/app-static build/app-pc build/app-cargo
    run_block repo "$root"
    # The static program does not need libwxface.so.
    ! readelf -d build/app-static | has 'libwxface' || fail "build/app-static needs libwxface.so"
}

# Defined dynamic symbols of a shared library, one per line (the version node's own absolute
# symbol left out).
exports_of() {
    nm -D --defined-only "$1" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u
}
header_functions() {
    grep -o '\bwxface_[a-z0-9_]*(' include/wxface.h | tr -d '(' | sort -u
}
exports() {
    local so others
    header_functions >"$work/header.txt"
    [[ -s "$work/header.txt" ]] || fail "no functions found in include/wxface.h"
    for so in "$stage/lib/libwxface.so.$version" target/release/libwxface.so; do
        [[ -f "$so" ]] || fail "$so missing"
        exports_of "$so" >"$work/exports.txt"
        others=$(grep -Ev '^(wxface_|Java_|JNI_On)' "$work/exports.txt" || true)
        [[ -z "$others" ]] || fail "$so exports more than the API: $others"
        grep '^wxface_' "$work/exports.txt" >"$work/api.txt" || true
        diff -u "$work/header.txt" "$work/api.txt" || fail "$so: exported wxface_* differ from include/wxface.h's functions"
        echo "$so: $(wc -l <"$work/api.txt") wxface_* exported, nothing else"
    done
    echo "summary: $(wc -l <"$work/header.txt") functions, only the API exported"
}

symver_soname() {
    local so="$stage/lib/libwxface.so.$version" unversioned
    readelf -d "$so" | has "Library soname: \[$soname\]" || fail "$so: SONAME is not $soname"
    readelf -d target/release/libwxface.so | has "Library soname: \[$soname\]" ||
        fail "target/release/libwxface.so: SONAME is not $soname"
    readelf -V "$so" | has 'Name: WXFACE_0\.1$' || fail "$so defines no version WXFACE_0.1"
    unversioned=$(objdump -T "$so" | awk '$NF ~ /^wxface_/ && $(NF-1) != "WXFACE_0.1"')
    [[ -z "$unversioned" ]] || fail "exports without version WXFACE_0.1: $unversioned"
    [[ "$(readlink "$stage/lib/$soname")" == "libwxface.so.$version" ]] || fail "$soname link wrong"
    [[ "$(readlink "$stage/lib/libwxface.so")" == "$soname" ]] || fail "libwxface.so link wrong"
    [[ "$(readlink target/release/$soname)" == libwxface.so ]] || fail "target/release/$soname missing"
    # A program linked with -lwxface records the SONAME and resolves it through the chain.
    readelf -d build/app-shared | has "Shared library: \[$soname\]" || fail "build/app-shared does not need $soname"
    objdump -T build/app-shared | has '(WXFACE_0.1) *wxface_get_authinfo$' ||
        fail "build/app-shared does not bind wxface_get_authinfo@WXFACE_0.1"
    echo "summary: $(objdump -T "$so" | grep -c 'WXFACE_0.1 *wxface_') symbols at WXFACE_0.1, SONAME $soname"
}

static_archive() {
    local a="$stage/lib/libwxface.a" globals debug
    debug=$(readelf -SW "$a" | grep -E '\.(debug_|zdebug)' || true)
    [[ -z "$debug" ]] || fail "libwxface.a has debug sections: $(head -3 <<<"$debug")"
    globals=$(nm -g --defined-only "$a" | awk 'NF == 3 { print $3 }' | grep -Ev '^(wxface_|Java_|JNI_On)' || true)
    [[ -z "$globals" ]] || fail "libwxface.a defines non-API globals: $(head -5 <<<"$globals")"
    echo "summary: $(stat -c %s "$a") bytes, $(nm -g --defined-only "$a" | grep -c ' T wxface_') global functions, no debug info"
}

two_rust_libs() {
    # Built like a release Rust library (LTO), so its runtime symbols are global in it.
    rustc --edition 2024 --crate-type staticlib -C opt-level=2 -C lto -C panic=unwind \
        -o "$work/libother.a" tests/ship/other_staticlib.rs
    # shellcheck disable=SC2046 # the library list is split on purpose
    cc -std=c99 -Wall -Werror -I"$stage/include" tests/ship/two_rust_libs.c "$stage/lib/libwxface.a" \
        "$work/libother.a" $(PKG_CONFIG_PATH="$stage/lib/pkgconfig" pkg-config --libs-only-l --static wxface | sed 's/-lwxface//') \
        -o "$work/two_rust_libs"
    "$work/two_rust_libs"
    # For contrast (not a check): cargo's own archive clashes with the second runtime.
    # shellcheck disable=SC2046
    if cc -I"$stage/include" tests/ship/two_rust_libs.c target/release/libwxface.a "$work/libother.a" \
        $(PKG_CONFIG_PATH="$stage/lib/pkgconfig" pkg-config --libs-only-l --static wxface | sed 's/-lwxface//') \
        -o "$work/two_rust_libs_cargo" 2>"$work/clash.log"; then
        echo "summary: links and runs (cargo's own archive links too here)"
    else
        echo "summary: links and runs (cargo's archive: $(grep -c 'multiple definition' "$work/clash.log") duplicate symbols)"
    fi
}

version_macros() {
    cc -std=c99 -Wall -Werror -I"$stage/include" tests/ship/version_check.c -L"$stage/lib" -lwxface \
        -Wl,-rpath,"$stage/lib" -o "$work/version_check"
    "$work/version_check"
}

install_check() {
    local sysroot="$work/sysroot" expected listed
    make --no-print-directory install DESTDIR="$sysroot" PREFIX=/usr
    expected=$(printf '%s\n' usr/include/wxface.h "usr/lib/libwxface.so.$version" "usr/lib/$soname" \
        usr/lib/libwxface.so usr/lib/libwxface.a usr/lib/pkgconfig/wxface.pc \
        usr/lib/cmake/wxface/wxfaceConfig.cmake usr/lib/cmake/wxface/wxfaceConfigVersion.cmake | sort)
    listed=$(cd "$sysroot" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
    [[ "$listed" == "$expected" ]] || fail "installed files differ: $(diff <(echo "$expected") <(echo "$listed"))"
    grep -qx 'prefix=/usr' "$sysroot/usr/lib/pkgconfig/wxface.pc" || fail "wxface.pc does not say prefix=/usr"

    # The issue's line, verbatim but for the names.
    cp examples-c/get_authinfo.c "$work/app.c"
    tmp=$sysroot
    # shellcheck disable=SC2046
    cc "$work/app.c" $(PKG_CONFIG_SYSROOT_DIR=$tmp PKG_CONFIG_PATH=$tmp/usr/lib/pkgconfig pkg-config --cflags --libs wxface) -o "$work/app-issue"
    run_example "$work/app-issue" LD_LIBRARY_PATH="$sysroot/usr/lib"

    # docs/c-api.md's sysroot block, verbatim, in a directory holding app.c.
    mkdir -p "$work/readme"
    cp examples-c/get_authinfo.c "$work/readme/app.c"
    run_block sysroot "$work/readme" SYSROOT="$sysroot" LD_LIBRARY_PATH="$sysroot/usr/lib"

    # CMake: find_package from the DESTDIR prefix, shared and static targets.
    cmake_examples "$sysroot/usr" "$work/cmake"

    make --no-print-directory uninstall DESTDIR="$sysroot" PREFIX=/usr
    listed=$(cd "$sysroot" && find . \( -type f -o -type l \) | sed 's|^\./||')
    [[ -z "$listed" ]] || fail "left after make uninstall: $listed"
    echo "summary: 8 files installed, pkg-config, docs/c-api.md sysroot block and CMake (shared, static) ran, uninstall clean"
}

check readme-repo readme_repo
check exports exports
check symver-soname symver_soname
check static-archive static_archive
check two-rust-libs two_rust_libs
check version-macros version_macros
check install install_check
finish
