#!/usr/bin/env bash
# make dist: release archives for Linux terminals.
#
#   dist/wxface-<version>-<triple>.tar.gz   one per target, and dist/SHA256SUMS
#
# Targets (default: all of them; or name some as arguments, e.g. aarch64-unknown-linux-gnu):
#   x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, armv7-unknown-linux-gnueabihf
#       built and linked with cargo-zigbuild against glibc 2.17, so they load on glibc 2.17 and
#       newer (Buildroot, Yocto and vendor BSPs from about 2014 on)
#   x86_64-unknown-linux-musl, aarch64-unknown-linux-musl
#       static only (libwxface.a) plus a statically linked bin/get_authinfo
#   armv7-unknown-linux-musleabihf
#       the same; the Rust toolchain here publishes no std for it, so std is built from source
#       with the nightly toolchain (-Zbuild-std)
#
# Each archive unpacks to wxface-<version>-<triple>/ and is a prefix: include/, lib/ (the
# layout of `make install`, with a relocatable wxface.pc and CMake package), examples-c/,
# README.md, CHANGELOG.md, LICENSE-MIT, LICENSE-APACHE (and bin/get_authinfo for musl). The
# libraries are built without the jni feature (Android builds use scripts/android-build.sh).
#
# Installs what is missing: pip packages ziglang and cargo-zigbuild, the rustup targets, and
# the cross binutils (apt) that scripts/stage.sh uses to localize the static library.
# Builds under target/dist. Prints each archive's size.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

all_targets=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf
    x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf)
case "${1:-}" in -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "dist.sh: unknown target $t (try --help)" >&2; exit 2; }
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
target_dir="$root/target/dist"
start=$SECONDS

# ---- tools
scripts_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
export PATH="$PATH:$scripts_dir"
if ! command -v cargo-zigbuild >/dev/null || ! python3 -c 'import ziglang' 2>/dev/null; then
    echo "dist: pip install ziglang cargo-zigbuild"
    python3 -m pip install -q ziglang cargo-zigbuild
    hash -r
fi
apt_pkgs=()
for t in "${targets[@]}"; do
    case "$t" in
        aarch64-*) command -v aarch64-linux-gnu-objcopy >/dev/null || apt_pkgs+=(binutils-aarch64-linux-gnu) ;;
        armv7-*) command -v arm-linux-gnueabihf-objcopy >/dev/null || apt_pkgs+=(binutils-arm-linux-gnueabihf) ;;
    esac
done
if ((${#apt_pkgs[@]})); then
    mapfile -t apt_pkgs < <(printf '%s\n' "${apt_pkgs[@]}" | sort -u)
    echo "dist: apt-get install ${apt_pkgs[*]}"
    sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi
stable_targets=()
for t in "${targets[@]}"; do
    [[ "$t" == armv7-unknown-linux-musleabihf ]] && continue
    rustup target list --installed | grep -qx "$t" || stable_targets+=("$t")
done
((${#stable_targets[@]} == 0)) || rustup target add "${stable_targets[@]}"
if [[ " ${targets[*]} " == *" armv7-unknown-linux-musleabihf "* ]]; then
    rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
    rustup +nightly component add rust-src
fi

# zig_cc TARGET: a C compiler command for the zig target, as one executable (CMake wants one).
zig_wrapper() { # zig-target -> path
    local w="$target_dir/zig-cc-$1"
    mkdir -p "$target_dir"
    printf '#!/bin/sh\nexec python3 -m ziglang cc -target %s "$@"\n' "$1" >"$w"
    chmod +x "$w"
    echo "$w"
}
zig_target_of() {
    case "$1" in
        x86_64-unknown-linux-musl) echo x86_64-linux-musl ;;
        aarch64-unknown-linux-musl) echo aarch64-linux-musl ;;
        armv7-unknown-linux-musleabihf) echo arm-linux-musleabihf ;;
    esac
}

mkdir -p dist
summary=()
for t in "${targets[@]}"; do
    t0=$SECONDS
    name="wxface-$version-$t"
    tree="$target_dir/pkg/$name"
    rm -rf "$tree"
    echo "== $t"
    case "$t" in
        *-gnu | *-gnueabihf) bash scripts/stage.sh --out "$tree" --target "$t" --zig 2.17 --target-dir "$target_dir" ;;
        armv7-unknown-linux-musleabihf)
            # No prebuilt std: the nightly toolchain builds it (zig links).
            RUSTUP_TOOLCHAIN=nightly WXFACE_STAGE_CARGO_ARGS="-Zbuild-std=std,panic_unwind" \
                bash scripts/stage.sh --out "$tree" --target "$t" --zig musl --target-dir "$target_dir/nightly"
            ;;
        *) bash scripts/stage.sh --out "$tree" --target "$t" --zig musl --target-dir "$target_dir" ;;
    esac
    mkdir -p "$tree/examples-c"
    cp README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE "$tree/"
    cp examples-c/get_authinfo.c "$tree/examples-c/"
    if [[ "$t" == *-musl* ]]; then
        # A statically linked example, ready to copy to a device.
        mkdir -p "$tree/bin"
        cc_w=$(zig_wrapper "$(zig_target_of "$t")")
        # shellcheck disable=SC2046 # the library list is split on purpose
        "$cc_w" -std=c99 -Os -static -I"$tree/include" examples-c/get_authinfo.c \
            $(PKG_CONFIG_LIBDIR="$tree/lib/pkgconfig" pkg-config --libs --static wxface) \
            -s -o "$tree/bin/get_authinfo"
    fi
    # Reproducible: sorted names, no owners, the last commit's time.
    epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
        -C "$target_dir/pkg" -czf "dist/$name.tar.gz" "$name"
    size=$(stat -c %s "dist/$name.tar.gz")
    line="$(printf '%-44s %9d bytes' "$name.tar.gz" "$size")"
    for f in "lib/libwxface.so.$version" lib/libwxface.a bin/get_authinfo; do
        [[ -f "$tree/$f" ]] && line+="$(printf '  %s %d' "${f##*/}" "$(stat -c %s "$tree/$f")")"
    done
    summary+=("$line  ($((SECONDS - t0)) s)")
done

(cd dist && sha256sum wxface-"$version"-*.tar.gz >SHA256SUMS)
echo
echo "dist/ (archive size; libwxface.so, libwxface.a, example binary sizes in bytes; build time):"
printf '  %s\n' "${summary[@]}"
echo "  SHA256SUMS: $(wc -l <dist/SHA256SUMS) archives"
echo "dist: $((SECONDS - start)) s"
