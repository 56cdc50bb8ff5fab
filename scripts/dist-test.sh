#!/usr/bin/env bash
# make dist-test [TARGET...] (default: the six of scripts/dist.sh): each release archive (built by
# scripts/dist.sh when missing) matches dist/SHA256SUMS, holds its files and every file README.md
# links to, and is unpacked into a prefix. make cross-test (--cross [TARGET...], default aarch64
# and armv7 glibc): the prefix is staged with Debian's cross gcc instead (scripts/stage.sh), and
# the Rust unit tests run under qemu-user (docs/PLATFORMS.md, "Linux on ARM"). Then, per prefix:
# glibc: nothing above GLIBC_2.17 (--cross: the highest printed), only wxface_* exported at
# WXFACE_0.1, the SONAME chain; the C example built with the target's compiler through pkg-config
# and CMake, run under qemu-user (run_example, scripts/lib.sh); musl: the archive's bin/get_authinfo.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cross=0
[[ "${1:-}" == --cross ]] && { cross=1; shift; }
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=("${linux_targets[@]}")
    ((cross == 0)) || targets=(aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)
fi
start=$SECONDS
need cmake pkg-config
for t in "${targets[@]}"; do
    if [[ "$t" == *-musl* ]]; then need_cross "$t" qemu && need_zig; else need_cross "$t" gcc qemu; fi
done
if ((cross)); then
    cross_dir="$root/target/cross"
else
    missing=()
    for t in "${targets[@]}"; do [[ -f "dist/wxface-$version-$t.tar.gz" ]] || missing+=("$t"); done
    ((${#missing[@]} == 0)) || bash scripts/dist.sh "${missing[@]}"
fi
mock dist

# prefix_of TARGET: the archive unpacked (or, --cross, the library staged) under $work; sets prefix.
prefix_of() {
    local t=$1 name="wxface-$version-$1" f
    prefix="$work/$t/$name"
    mkdir -p "$work/$t"
    if ((cross)); then
        export "CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$t")_LINKER=${gnu}-gcc"
        bash scripts/stage.sh --out "$prefix" --target "$t" --target-dir "$cross_dir"
        return
    fi
    (cd dist && grep " $name.tar.gz\$" SHA256SUMS | sha256sum -c --quiet -) || fail "checksum mismatch for $name.tar.gz"
    tar -xzf "dist/$name.tar.gz" -C "$work/$t"
    for f in include/wxface.h lib/libwxface.a lib/pkgconfig/wxface.pc lib/cmake/wxface/wxfaceConfig.cmake \
        lib/cmake/wxface/wxfaceConfigVersion.cmake README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE \
        examples-c/get_authinfo.c; do
        [[ -e "$prefix/$f" ]] || fail "$name lacks $f"
    done
    for f in $(grep -oE '\]\([^):#]+[)#]' "$prefix/README.md" | sed 's/^](//; s/.$//' | sort -u); do
        [[ -e "$prefix/$f" ]] || fail "$name: README.md links to $f, which the archive lacks"
    done
}

test_target() { # target
    local t=$1 cc od glibc others ldflags="" so
    target "$t"
    prefix_of "$t"
    cc=${tools:+${tools}g}cc
    od="${tools}objdump"
    export PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" # only the prefix's .pc, none of the host's
    if [[ "$t" == *-musl* ]]; then
        ldflags=-static
        cc="$work/zig-cc-$zig"
        printf '#!/bin/sh\nexec python3 -m ziglang cc -target %s "$@"\n' "$zig" >"$cc"
        chmod +x "$cc"
        [[ ! -e "$prefix/lib/libwxface.so" ]] || fail "a musl archive with a shared library"
        # shellcheck disable=SC2046 # the flags are split on purpose
        "$cc" -std=c99 -Wall -Werror -static examples-c/get_authinfo.c \
            $(pkg-config --cflags --libs --static wxface) -o "$work/$t/app-pc"
        run_example "$work/$t/app-pc"
        run_example "$prefix/bin/get_authinfo"
    else
        so="$prefix/lib/libwxface.so.$version"
        so_chain "$prefix/lib" "$od"
        glibc=$("$od" -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n1)
        [[ -n "$glibc" ]] || fail "no GLIBC_ versions read from $so"
        ((cross)) || printf '%s\n' "$glibc" GLIBC_2.17 | sort -CV || fail "$so needs $glibc (> GLIBC_2.17)"
        others=$("$od" -T "$so" | awk '$2 == "g" && $4 != "*UND*" && $NF !~ /^wxface_/ && $NF != "WXFACE_0.1"')
        [[ -z "$others" ]] || fail "$so exports more than wxface_*: $others"
        # shellcheck disable=SC2046
        "$cc" -std=c99 -Wall -Werror examples-c/get_authinfo.c $(pkg-config --cflags --libs wxface) \
            -o "$work/$t/app-pc"
        run_example "$work/$t/app-pc" LD_LIBRARY_PATH="$prefix/lib"
    fi
    # CMake, cross-compiling with the same compiler (musl programs linked statically).
    cmake_examples "$prefix" "$work/$t/cmake" -DCMAKE_C_COMPILER="$cc" -DCMAKE_SYSTEM_NAME=Linux \
        -DCMAKE_SYSTEM_PROCESSOR="${t%%-*}" -DCMAKE_EXE_LINKER_FLAGS="$ldflags"
    if ((cross)); then
        echo "summary: libwxface.so.$version $(stat -c %s "$so") bytes, needs $glibc, pkg-config and CMake builds ran"
    else
        echo "summary: $(stat -c %s "dist/wxface-$version-$t.tar.gz") bytes${glibc:+, needs at most $glibc}, pkg-config and CMake builds ran"
    fi
}

unit_tests() { # target: the library's Rust unit tests, built for it and run under qemu-user
    local t=$1 T
    target "$t"
    T=$(tr 'a-z-' 'A-Z_' <<<"$t")
    env "CARGO_TARGET_${T}_LINKER=${gnu}-gcc" "CARGO_TARGET_${T}_RUNNER=$runner" \
        cargo test --release --lib -p wxface --target "$t" --target-dir "$cross_dir" 2>&1 | tee "$work/unit.log"
    has -E '^test result: ok\. [1-9][0-9]* passed; 0 failed' "$work/unit.log" || fail "no passing test result"
    echo "summary: $(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$work/unit.log" | head -n1) passed under ${runner%% *}"
}

for t in "${targets[@]}"; do
    check "$t" test_target "$t"
    ((cross == 0)) || check "$t unit tests" unit_tests "$t"
done
echo "dist-test: $((SECONDS - start)) s"
finish
