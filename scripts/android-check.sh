#!/usr/bin/env bash
# What can be verified for Android on a machine WITHOUT the Android NDK (see
# docs/PLATFORMS.md, "Android"): the Rust code, the JNI exports and ring's C/assembly
# compile for every Android ABI. It does NOT produce a shippable libwxface.so: linking one needs
# the NDK's Bionic sysroot (crt objects, libc.so, libdl.so, liblog.so), which is not available
# here. The real build is scripts/android-build.sh.
#
# Steps, per Rust target (aarch64-linux-android, armv7-linux-androideabi, x86_64-linux-android):
#   1. rustup target add
#   2. cargo check --lib --target T                       (type-checks wxface + src/jni.rs)
#   3. cargo rustc --lib --crate-type staticlib --target T (full codegen, no final link)
#      and llvm-nm on the archive: the Java_com_wxface_* exports must be there.
# ring's build script compiles C and assembly even for `cargo check`; with no NDK it uses the
# host clang with --target=<android triple> and glibc cross headers for types and macros only.
#
# Usage: scripts/android-check.sh [--no-staticlib]
#   Installs (apt-get, as root) clang, lld and the glibc cross headers when missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
staticlib=1
[[ "${1:-}" == "--no-staticlib" ]] && staticlib=0

targets=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)
api=21

echo "== rustup target add ${targets[*]}"
rustup target add "${targets[@]}"

missing=()
command -v clang >/dev/null || missing+=(clang)
command -v ld.lld >/dev/null || missing+=(lld)
command -v llvm-ar >/dev/null || missing+=(llvm)
[[ -d /usr/aarch64-linux-gnu/include ]] || missing+=(libc6-dev-arm64-cross)
[[ -d /usr/arm-linux-gnueabihf/include ]] || missing+=(libc6-dev-armhf-cross)
[[ -d /usr/include/x86_64-linux-gnu ]] || missing+=(libc6-dev)
if ((${#missing[@]})); then
    echo "== apt-get install ${missing[*]}"
    sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The CC/CFLAGS recipe of docs/PLATFORMS.md: host clang targeting Android, glibc cross headers.
export CC_aarch64_linux_android=clang AR_aarch64_linux_android=llvm-ar
export CFLAGS_aarch64_linux_android="--target=aarch64-linux-android$api -nostdlibinc -isystem /usr/aarch64-linux-gnu/include"
export CC_armv7_linux_androideabi=clang AR_armv7_linux_androideabi=llvm-ar
export CFLAGS_armv7_linux_androideabi="--target=armv7-linux-androideabi$api -nostdlibinc -isystem /usr/arm-linux-gnueabihf/include -D__ARM_PCS_VFP=1"
export CC_x86_64_linux_android=clang AR_x86_64_linux_android=llvm-ar
export CFLAGS_x86_64_linux_android="--target=x86_64-linux-android$api -nostdlibinc -isystem /usr/include/x86_64-linux-gnu -isystem /usr/include"

target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
exports=(nativeCreate nativeFree nativeGetAuthinfo nativeVersion)
summary=()
for t in "${targets[@]}"; do
    echo "== cargo check --lib --features jni --target $t"
    cargo check --lib --features jni --target "$t"
    line="$t: cargo check OK"
    if ((staticlib)); then
        echo "== cargo rustc --lib --features jni --crate-type staticlib --target $t"
        cargo rustc --lib --features jni --crate-type staticlib --target "$t"
        archive="$target_dir/$t/debug/libwxface.a"
        # llvm-nm exits non-zero on members it cannot read (the prebuilt std objects carry
        # bitcode newer than the host LLVM); the wxface objects are plain ELF and are read.
        syms="$({ llvm-nm --defined-only "$archive" 2>/dev/null || true; } | grep -o 'Java_com_wxface_[A-Za-z_]*' | sort -u || true)"
        for e in "${exports[@]}"; do
            grep -qx "Java_com_wxface_WxFaceClient_$e" <<<"$syms" || {
                echo "android-check: $archive lacks Java_com_wxface_WxFaceClient_$e" >&2
                exit 1
            }
        done
        size="$(du -h "$archive" | cut -f1)"
        line="$line; staticlib OK ($size debug archive, ${#exports[@]} JNI exports present)"
    fi
    summary+=("$line")
done

echo
echo "android-check summary:"
printf '  %s\n' "${summary[@]}"
echo "  not done here: linking libwxface.so for Android (needs the NDK: scripts/android-build.sh)"
