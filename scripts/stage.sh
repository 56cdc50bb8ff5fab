#!/usr/bin/env bash
# Builds libwxface for one target and lays it out the way C libraries are installed:
#
#   <out>/include/wxface.h
#   <out>/lib/libwxface.so.<version>            the real file, SONAME libwxface.so.0.<minor>
#   <out>/lib/libwxface.so.0.<minor> -> libwxface.so.<version>
#   <out>/lib/libwxface.so -> libwxface.so.0.<minor>
#   <out>/lib/libwxface.a                       one relocatable object, only the API global
#   <out>/lib/pkgconfig/wxface.pc               prefix=${pcfiledir}/../.. (make install rewrites it)
#   <out>/lib/cmake/wxface/wxfaceConfig.cmake, wxfaceConfigVersion.cmake
#
# (musl targets: no shared library; Rust links musl programs statically.)
#
# How the two libraries are made from cargo's staticlib (built with
# `cargo rustc --release --lib -- --print native-static-libs`, which also names the system
# libraries it needs):
#   1. The LLVM bitcode sections rustc embeds are dropped, and `ld -r --gc-sections` (GNU ld; zig's
#      ld.lld for armv7 zig builds) merges the
#      archive into one object, keeping what the wxface_* functions (and, with the jni feature,
#      Java_* and JNI_On*) reach.
#   2. `objcopy --strip-debug --strip-unneeded --keep-global-symbols -R .group` makes every
#      other symbol (the Rust runtime's, ring's, std's) local and drops COMDAT groups: a
#      firmware can link this archive next to another Rust static library without duplicate
#      symbols. That object is libwxface.a.
#   3. The shared library is linked from that object with packaging/wxface.map, which puts the
#      exports under the symbol version WXFACE_0.1, and the SONAME.
#
# Usage: scripts/stage.sh --out DIR [--target TRIPLE] [--zig GLIBC|musl] [--features LIST]
#                         [--target-dir DIR]
#   --target      a Rust target triple (default: the host, built natively)
#   --zig GLIBC   build and link with cargo-zigbuild/zig against that glibc (e.g. 2.17)
#   --zig musl    build a musl target with cargo-zigbuild
#   --features    cargo features (Linux archives are built without jni); `silent-deps` is
#                 always added
# Prints the native-static-libs line and the sizes of what it staged.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

out="" target="" zig="" features="" target_dir="$root/target"
while (($#)); do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --target) target="$2"; shift 2 ;;
        --zig) zig="$2"; shift 2 ;;
        --features) features="$2"; shift 2 ;;
        --target-dir) target_dir="$2"; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "stage.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ -n "$out" ]] || { echo "stage.sh: --out DIR is required" >&2; exit 2; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
if [[ "$major" == 0 ]]; then soname="libwxface.so.0.$minor"; else soname="libwxface.so.$major"; fi

host=$(rustc -vV | sed -n 's/^host: //p')
triple=${target:-$host}
case "$triple" in
    x86_64-*) binutils_prefix="x86_64-linux-gnu-"; zig_arch=x86_64; ptr=8 ;;
    aarch64-*) binutils_prefix="aarch64-linux-gnu-"; zig_arch=aarch64; ptr=8 ;;
    armv7-*) binutils_prefix="arm-linux-gnueabihf-"; zig_arch=arm; ptr=4 ;;
    *) echo "stage.sh: unsupported target $triple" >&2; exit 2 ;;
esac
# The host's own binutils serve the host architecture.
[[ "$triple" == "$host" ]] && binutils_prefix=""
musl=0
[[ "$triple" == *-musl* ]] && musl=1

cargo_cmd=(cargo)
cargo_target=()
if [[ -n "$zig" ]]; then
    cargo_cmd=(cargo-zigbuild)
    if [[ "$zig" == musl ]]; then
        cargo_target=(--target "$triple")
    else
        cargo_target=(--target "$triple.$zig")
    fi
elif [[ -n "$target" ]]; then
    cargo_target=(--target "$triple")
fi
# `silent-deps`: the dependencies' `log` statements are compiled out (see Cargo.toml); nobody can
# install a `log` logger through the C ABI.
feature_args=(--features "${features:+$features,}silent-deps")
# Extra cargo arguments (scripts/dist.sh: -Zbuild-std for a target without a prebuilt std).
# WXFACE_STAGE_LDFLAGS: extra flags for linking the shared library (scripts/size.sh: -L for the
# arm64 libssl it unpacks).
read -r -a extra_args <<<"${WXFACE_STAGE_CARGO_ARGS:-}"

profile_dir="$target_dir/release"
[[ ${#cargo_target[@]} -gt 0 ]] && profile_dir="$target_dir/$triple/release"

log="$(mktemp)"
work="$(mktemp -d)"
trap 'rm -rf "$work" "$log"' EXIT

# `cargo rustc` (and `cargo-zigbuild rustc`) is `cargo build` plus arguments for the last rustc.
sub=rustc
echo "stage: ${cargo_cmd[*]} $sub --release --lib -p wxface ${cargo_target[*]} ${feature_args[*]}"
if ! "${cargo_cmd[@]}" "$sub" --release --lib -p wxface "${cargo_target[@]}" "${feature_args[@]}" "${extra_args[@]}" \
    --target-dir "$target_dir" -- --print native-static-libs >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
fi
native_libs=$(sed -n 's/.*native-static-libs: //p' "$log" | tail -n1)
# Deduplicate, keeping the last occurrence of each (the order the linker needs).
native_libs=$(tr ' ' '\n' <<<"$native_libs" | grep . | tac | awk '!seen[$0]++' | tac | tr '\n' ' ')
native_libs=${native_libs% }
echo "stage: native-static-libs: ${native_libs:-(none)}"

archive="$profile_dir/libwxface.a"
[[ -f "$archive" ]] || { echo "stage.sh: $archive missing" >&2; exit 1; }
objcopy="${binutils_prefix}objcopy"
ld="${binutils_prefix}ld"
nm="${binutils_prefix}nm"

# 1. Without the embedded bitcode, so that no linker plugin tries to read it.
"$objcopy" -R .llvmbc -R .llvmcmd "$archive" "$work/nobc.a"
"$nm" -g --defined-only "$work/nobc.a" 2>/dev/null |
    awk '$2 ~ /^[TDR]$/ && $3 ~ /^(wxface_|Java_|JNI_On)/ { print $3 }' | sort -u >"$work/api.txt"
api_count=$(grep -c '^wxface_' "$work/api.txt" || true)
((api_count > 0)) || { echo "stage.sh: no wxface_* functions in $archive" >&2; exit 1; }
mapfile -t roots < <(sed 's/^/-u\n/' "$work/api.txt")
# armv7 zig builds merge with zig's own lld: its linker aborts on an armv7 object merged by
# GNU ld. (GNU objcopy does not read what zig's lld writes for x86_64, so only there.)
ld_r=("$ld")
[[ -n "$zig" && "$zig_arch" == arm ]] && ld_r=(python3 -m ziglang ld.lld)
"${ld_r[@]}" -r --gc-sections "${roots[@]}" --whole-archive "$work/nobc.a" --no-whole-archive -o "$work/merged.o"
# 2. Only the API stays global; no debug information. The COMDAT groups go too (rustc puts
#    DW.ref.rust_eh_personality in one): a group is shared by name with other objects, and
#    another Rust library's copy would then be discarded in favour of ours, now local.
"$objcopy" --strip-debug --strip-unneeded --keep-global-symbols="$work/api.txt" -R .group \
    "$work/merged.o" "$work/wxface.o"

rm -rf "$out/include" "$out/lib"
mkdir -p "$out/include" "$out/lib/pkgconfig" "$out/lib/cmake/wxface"
cp include/wxface.h "$out/include/"
rm -f "$work/libwxface.a"
"${binutils_prefix}ar" rcsD "$work/libwxface.a" "$work/wxface.o"
cp "$work/libwxface.a" "$out/lib/libwxface.a"

# 3. The shared library (glibc targets).
if ((musl == 0)); then
    if [[ -n "$zig" ]]; then
        link_cc=(python3 -m ziglang cc -target "$zig_arch-linux-gnueabihf.$zig")
        [[ "$zig_arch" != arm ]] && link_cc=(python3 -m ziglang cc -target "$zig_arch-linux-gnu.$zig")
    elif [[ -n "$binutils_prefix" ]]; then
        link_cc=("${binutils_prefix}gcc")
    else
        link_cc=("${CC:-cc}")
    fi
    # shellcheck disable=SC2086 # the library list is split on purpose
    "${link_cc[@]}" -shared -o "$out/lib/libwxface.so.$version" "$work/wxface.o" \
        -Wl,-soname,"$soname" -Wl,--version-script="$root/packaging/wxface.map" \
        -Wl,--gc-sections -Wl,--as-needed -Wl,-z,relro,-z,now -Wl,-z,noexecstack \
        -Wl,--eh-frame-hdr -s ${WXFACE_STAGE_LDFLAGS:-} $native_libs
    ln -sf "libwxface.so.$version" "$out/lib/$soname"
    ln -sf "$soname" "$out/lib/libwxface.so"
fi

# pkg-config and CMake files.
cmake_libs=$(tr ' ' '\n' <<<"$native_libs" | sed -n 's/^-l//p' | tr '\n' ';')
cmake_libs=${cmake_libs%;}
subst() {
    sed -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|$major|g" -e "s|@MINOR@|$minor|g" \
        -e "s|@SONAME@|$soname|g" -e "s|@NATIVE_LIBS@|$native_libs|g" \
        -e "s|@CMAKE_LIBS@|$cmake_libs|g" -e "s|@SIZEOF_VOID_P@|$ptr|g" \
        -e "s|@PREFIX@|\${pcfiledir}/../..|g" "$1"
}
subst packaging/wxface.pc.in >"$out/lib/pkgconfig/wxface.pc"
subst packaging/wxfaceConfig.cmake.in >"$out/lib/cmake/wxface/wxfaceConfig.cmake"
subst packaging/wxfaceConfigVersion.cmake.in >"$out/lib/cmake/wxface/wxfaceConfigVersion.cmake"

echo "stage: $triple${zig:+ (zig $zig)} -> $out ($api_count wxface_* functions exported)"
for f in "$out/lib/libwxface.so.$version" "$out/lib/libwxface.a"; do
    [[ -f "$f" ]] && printf 'stage:   %10d bytes  %s\n' "$(stat -c %s "$f")" "${f#"$out"/}"
done
exit 0
