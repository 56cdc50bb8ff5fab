#!/usr/bin/env bash
# Builds libwxface for one target and lays it out the way C libraries are installed (the files
# of docs/c-api.md, "Installing"; musl targets have no shared library). libwxface.a is cargo's
# staticlib merged into one object whose only globals are the API; libwxface.so.<version> is
# linked from that object with packaging/wxface.map (why: docs/PLATFORMS.md, "Linux, native").
#
# Usage: scripts/stage.sh --out DIR [--target TRIPLE (default: the host)] [--zig GLIBC|musl]
#                         [--features LIST (`silent-deps` always added)] [--target-dir DIR]
#   --zig GLIBC   build and link with cargo-zigbuild/zig against that glibc (e.g. 2.17); --zig musl:
#                 a musl target with cargo-zigbuild
# Prints the native-static-libs line and the sizes of what it staged.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out="" triple=$host zigmode="" features="" target_dir="$root/target" cargo_target=()
while (($#)); do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --target) triple="$2" cargo_target=(--target "$2"); shift 2 ;;
        --zig) zigmode="$2"; shift 2 ;;
        --features) features="$2"; shift 2 ;;
        --target-dir) target_dir="$2"; shift 2 ;;
        *) echo "stage.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ -n "$out" ]] || { echo "stage.sh: --out DIR is required" >&2; exit 2; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
target "$triple"

cargo_cmd=(cargo)
if [[ -n "$zigmode" ]]; then
    need_zig
    cargo_cmd=(cargo-zigbuild)
    [[ "$zigmode" == musl ]] || cargo_target=(--target "$triple.$zigmode")
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

log="$work/cargo.log"
# `cargo rustc` (and `cargo-zigbuild rustc`) is `cargo build` plus arguments for the last rustc.
echo "stage: ${cargo_cmd[*]} rustc --release --lib -p wxface ${cargo_target[*]} ${feature_args[*]}"
"${cargo_cmd[@]}" rustc --release --lib -p wxface "${cargo_target[@]}" "${feature_args[@]}" "${extra_args[@]}" \
    --target-dir "$target_dir" -- --print native-static-libs >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
native_libs=$(sed -n 's/.*native-static-libs: //p' "$log" | tail -n1)
# Deduplicate, keeping the last occurrence of each (the order the linker needs).
native_libs=$(tr ' ' '\n' <<<"$native_libs" | grep . | tac | awk '!seen[$0]++' | tac | tr '\n' ' ')
native_libs=${native_libs% }
echo "stage: native-static-libs: ${native_libs:-(none)}"

archive="$profile_dir/libwxface.a"
[[ -f "$archive" ]] || { echo "stage.sh: $archive missing" >&2; exit 1; }

# 1. Without the embedded bitcode (so that no linker plugin tries to read it), merged into one
#    object with what the API (wxface_*; Java_*, JNI_On* with the jni feature) reaches.
"${tools}objcopy" -R .llvmbc -R .llvmcmd "$archive" "$work/nobc.a"
"${tools}nm" -g --defined-only "$work/nobc.a" 2>/dev/null |
    awk '$2 ~ /^[TDR]$/ && $3 ~ /^(wxface_|Java_|JNI_On)/ { print $3 }' | sort -u >"$work/api.txt"
api_count=$(grep -c '^wxface_' "$work/api.txt" || true)
((api_count > 0)) || { echo "stage.sh: no wxface_* functions in $archive" >&2; exit 1; }
mapfile -t roots < <(sed 's/^/-u\n/' "$work/api.txt")
# armv7 zig builds merge with zig's own lld: its linker aborts on an armv7 object merged by
# GNU ld. (GNU objcopy does not read what zig's lld writes for x86_64, so only there.)
ld_r=("${tools}ld")
[[ -n "$zigmode" && "$gnu" == arm-* ]] && ld_r=(python3 -m ziglang ld.lld)
"${ld_r[@]}" -r --gc-sections "${roots[@]}" --whole-archive "$work/nobc.a" --no-whole-archive -o "$work/merged.o"
# 2. Only the API stays global; no debug information. The COMDAT groups go too (rustc puts
#    DW.ref.rust_eh_personality in one): a group is shared by name with other objects, and
#    another Rust library's copy would then be discarded in favour of ours, now local.
"${tools}objcopy" --strip-debug --strip-unneeded --keep-global-symbols="$work/api.txt" -R .group \
    "$work/merged.o" "$work/wxface.o"

rm -rf "${out:?}/include" "${out:?}/lib"
mkdir -p "$out/include" "$out/lib/pkgconfig" "$out/lib/cmake/wxface"
cp include/wxface.h "$out/include/"
"${tools}ar" rcsD "$out/lib/libwxface.a" "$work/wxface.o"

# 3. The shared library (glibc targets).
if [[ "$triple" != *-musl* ]]; then
    link_cc=("${CC:-cc}")
    [[ -n "$tools" ]] && link_cc=("${tools}gcc")
    [[ -n "$zigmode" ]] && link_cc=(python3 -m ziglang cc -target "$zig.$zigmode")
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

echo "stage: $triple${zigmode:+ (zig $zigmode)} -> $out ($api_count wxface_* functions exported)"
for f in "$out/lib/libwxface.so.$version" "$out/lib/libwxface.a"; do
    [[ -f "$f" ]] && printf 'stage:   %10d bytes  %s\n' "$(stat -c %s "$f")" "${f#"$out"/}"
done
exit 0
