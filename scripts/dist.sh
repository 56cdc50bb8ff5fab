#!/usr/bin/env bash
# make dist: release archives dist/wxface-<version>-<triple>.tar.gz and dist/SHA256SUMS for the
# targets named (default: the six of scripts/lib.sh). glibc targets are built and linked with
# cargo-zigbuild against glibc 2.17 (Buildroot, Yocto and vendor BSPs from about 2014 on); musl
# ones are static only, with a statically linked bin/get_authinfo (armv7 musl: std built by the
# nightly toolchain with -Zbuild-std, as none is published for it). Each archive unpacks to
# wxface-<version>-<triple>/, a prefix: the layout of `make install` (relocatable wxface.pc and
# CMake package), examples-c/, README.md, docs/, CHANGELOG.md and the licences; built without jni.
# Installs what is missing (pip: zig; rustup targets; apt: cross binutils); builds in target/dist.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

targets=("$@")
((${#targets[@]})) || targets=("${linux_targets[@]}")
target_dir="$root/target/dist"
start=$SECONDS
need_zig
for t in "${targets[@]}"; do need_cross "$t"; done

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
    cp -r README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE docs "$tree/"
    cp examples-c/get_authinfo.c "$tree/examples-c/"
    if [[ "$t" == *-musl* ]]; then
        # A statically linked example, ready to copy to a device.
        mkdir -p "$tree/bin"
        target "$t"
        # shellcheck disable=SC2046 # the library list is split on purpose
        python3 -m ziglang cc -target "$zig" -std=c99 -Os -static -I"$tree/include" examples-c/get_authinfo.c \
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
