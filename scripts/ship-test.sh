#!/usr/bin/env bash
# make ship-test (part of make test): what a firmware integrator gets from `make lib`,
# `make install` and a plain `cargo build`, checked the way they would use it.
#
# Each check is a function below; every program built runs against the mock (run_example in
# scripts/lib.sh). The docs/c-api.md blocks marked <!-- ship-test: NAME --> are run verbatim.
# Needs cc, pkg-config, cmake, rustc (.ci/run installs them). Ends with "N passed, N failed".
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for tool in cc pkg-config cmake rustc nm objdump readelf; do
    command -v "$tool" >/dev/null || { echo "ship-test: $tool not found (bash .ci/run installs it)" >&2; exit 1; }
done
stage="$root/build/lib"
echo "== building the mock server (the library is staged by the first check, with make lib)"
mock ship

# run_block MARKER DIR [ENV...]: runs each line of the fenced block of docs/c-api.md after
# "<!-- ship-test: MARKER -->" in bash (`make` lines here, the others in DIR); after a `cc` line,
# runs the program it wrote (-o) against the mock.
run_block() {
    local marker=$1 dir=$2 line out_bin count=0 lines cwd
    shift 2
    mapfile -t lines < <(awk -v m="<!-- ship-test: $marker -->" '$0 == m { armed = 1; next }
        armed && /^```/ { if (inside) exit; inside = 1; next } inside { print }' docs/c-api.md)
    ((${#lines[@]} > 0)) || fail "docs/c-api.md has no block marked <!-- ship-test: $marker -->"
    for line in "${lines[@]}"; do
        [[ -z "$line" || "$line" == \#* ]] && continue
        echo "\$ $line"
        cwd=$dir
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

# readme-repo: docs/c-api.md's Linking block; the static program does not need libwxface.so.
readme_repo() {
    rm -f build/app-shared build/app-static build/app-pc build/app-cargo
    run_block repo "$root"
    ! readelf -d build/app-static | has 'libwxface' || fail "build/app-static needs libwxface.so"
}

# exports: the shared libraries (staged and cargo's) define only wxface_* (and Java_*, JNI_On*
# with the jni feature), exactly the functions of include/wxface.h. (nm's "A": the version node.)
exports() {
    local so others
    header_functions >"$work/header.txt"
    [[ -s "$work/header.txt" ]] || fail "no functions found in include/wxface.h"
    for so in "$stage/lib/libwxface.so.$version" target/release/libwxface.so; do
        [[ -f "$so" ]] || fail "$so missing"
        nm -D --defined-only "$so" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u >"$work/exports.txt"
        others=$(grep -Ev '^(wxface_|Java_|JNI_On)' "$work/exports.txt" || true)
        [[ -z "$others" ]] || fail "$so exports more than the API: $others"
        grep '^wxface_' "$work/exports.txt" >"$work/api.txt" || true
        diff -u "$work/header.txt" "$work/api.txt" || fail "$so: exported wxface_* differ from include/wxface.h's functions"
        echo "$so: $(wc -l <"$work/api.txt") wxface_* exported, nothing else"
    done
    echo "summary: $(wc -l <"$work/header.txt") functions, only the API exported"
}

# symver-soname: every export at version WXFACE_0.1; SONAME $soname; the .so.<version> <- $soname
# <- .so chain; a program linked with -lwxface records the SONAME and binds at WXFACE_0.1.
symver_soname() {
    local so="$stage/lib/libwxface.so.$version" f
    for f in "$so" target/release/libwxface.so; do
        readelf -d "$f" | has "Library soname: \[$soname\]" || fail "$f: SONAME is not $soname"
    done
    readelf -V "$so" | has 'Name: WXFACE_0\.1$' || fail "$so defines no version WXFACE_0.1"
    so_chain "$stage/lib"
    [[ "$(readlink target/release/$soname)" == libwxface.so ]] || fail "target/release/$soname missing"
    readelf -d build/app-shared | has "Shared library: \[$soname\]" || fail "build/app-shared does not need $soname"
    objdump -T build/app-shared | has '(WXFACE_0.1) *wxface_get_authinfo$' ||
        fail "build/app-shared does not bind wxface_get_authinfo@WXFACE_0.1"
    echo "summary: $(objdump -T "$so" | grep -c 'WXFACE_0.1 *wxface_') symbols at WXFACE_0.1, SONAME $soname"
}

# static-archive: libwxface.a has no debug sections and no global but the API.
static_archive() {
    local a="$stage/lib/libwxface.a" globals debug
    debug=$(readelf -SW "$a" | grep -E '\.(debug_|zdebug)' || true)
    [[ -z "$debug" ]] || fail "libwxface.a has debug sections: $(head -3 <<<"$debug")"
    globals=$(nm -g --defined-only "$a" | awk 'NF == 3 { print $3 }' | grep -Ev '^(wxface_|Java_|JNI_On)' || true)
    [[ -z "$globals" ]] || fail "libwxface.a defines non-API globals: $(head -5 <<<"$globals")"
    echo "summary: $(stat -c %s "$a") bytes, $(nm -g --defined-only "$a" | grep -c ' T wxface_') global functions, no debug info"
}

# two-rust-libs: a C program links libwxface.a and a second Rust staticlib (built like a release
# Rust library, LTO, so its runtime symbols are global in it) and runs.
two_rust_libs() {
    local libs
    rustc --edition 2024 --crate-type staticlib -C opt-level=2 -C lto -C panic=unwind \
        -o "$work/libother.a" tests/ship/other_staticlib.rs
    libs=$(PKG_CONFIG_PATH="$stage/lib/pkgconfig" pkg-config --libs-only-l --static wxface | sed 's/-lwxface//')
    # shellcheck disable=SC2086 # the library list is split on purpose
    cc -std=c99 -Wall -Werror -I"$stage/include" tests/ship/two_rust_libs.c "$stage/lib/libwxface.a" \
        "$work/libother.a" $libs -o "$work/two_rust_libs"
    "$work/two_rust_libs"
    # For contrast (not a check): cargo's own archive clashes with the second runtime.
    # shellcheck disable=SC2086
    if cc -I"$stage/include" tests/ship/two_rust_libs.c target/release/libwxface.a "$work/libother.a" \
        $libs -o "$work/two_rust_libs_cargo" 2>"$work/clash.log"; then
        echo "summary: links and runs (cargo's own archive links too here)"
    else
        echo "summary: links and runs (cargo's archive: $(grep -c 'multiple definition' "$work/clash.log") duplicate symbols)"
    fi
}

# version-macros: WXFACE_VERSION_* of the header == wxface_version() of the library.
version_macros() {
    cc -std=c99 -Wall -Werror -I"$stage/include" tests/ship/version_check.c -L"$stage/lib" -lwxface \
        -Wl,-rpath,"$stage/lib" -o "$work/version_check"
    "$work/version_check"
}

# install: make install DESTDIR PREFIX=/usr installs exactly the documented files; the issue's
# pkg-config line (verbatim but for the names), docs/c-api.md's sysroot block and CMake
# find_package (shared and static) build and run; make uninstall leaves nothing behind.
install_check() {
    local sysroot="$work/sysroot" expected listed
    make --no-print-directory install DESTDIR="$sysroot" PREFIX=/usr
    expected=$(printf '%s\n' usr/include/wxface.h "usr/lib/libwxface.so.$version" "usr/lib/$soname" \
        usr/lib/libwxface.so usr/lib/libwxface.a usr/lib/pkgconfig/wxface.pc \
        usr/lib/cmake/wxface/wxfaceConfig.cmake usr/lib/cmake/wxface/wxfaceConfigVersion.cmake | sort)
    listed=$(cd "$sysroot" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
    [[ "$listed" == "$expected" ]] || fail "installed files differ: $(diff <(echo "$expected") <(echo "$listed"))"
    grep -qx 'prefix=/usr' "$sysroot/usr/lib/pkgconfig/wxface.pc" || fail "wxface.pc does not say prefix=/usr"
    mkdir -p "$work/readme"
    cp examples-c/get_authinfo.c "$work/readme/app.c"
    tmp=$sysroot
    # shellcheck disable=SC2046
    cc "$work/readme/app.c" $(PKG_CONFIG_SYSROOT_DIR=$tmp PKG_CONFIG_PATH=$tmp/usr/lib/pkgconfig pkg-config --cflags --libs wxface) -o "$work/app-issue"
    run_example "$work/app-issue" LD_LIBRARY_PATH="$sysroot/usr/lib"
    run_block sysroot "$work/readme" SYSROOT="$sysroot" LD_LIBRARY_PATH="$sysroot/usr/lib"
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
