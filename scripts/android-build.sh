#!/usr/bin/env bash
# make android: libwxface.so (C ABI + JNI binding) at minSdk 21 with 16 KB pages for each ABI in
# build/android/jniLibs/<abi>/, each verified by scripts/android-verify.sh: through cargo-ndk with
# an NDK (ANDROID_NDK_HOME, ANDROID_NDK_ROOT or ANDROID_HOME/ndk/<version>), else against the stub
# sysroot of scripts/android-sysroot.sh (docs/android.md, "Building for Android"). Installs what is
# missing. ANDROID_ABIS (default: all four), ANDROID_API (default 21), OUT (build/android/jniLibs).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
out="${OUT:-$root/build/android/jniLibs}"
api="${ANDROID_API:-21}"
read -r -a abis <<<"${ANDROID_ABIS:-arm64-v8a armeabi-v7a x86_64 x86}"
# `silent-deps`: the dependencies' `log` statements compiled out, as in the Linux C library.
features=(--features jni,silent-deps)

triples=()
for a in "${abis[@]}"; do android_abi "$a" && triples+=("$triple"); done

ndk="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
if [[ -z "$ndk" && -n "${ANDROID_HOME:-${ANDROID_SDK_ROOT:-}}" ]]; then
    sdk="${ANDROID_HOME:-$ANDROID_SDK_ROOT}"
    ndk="$(ls -d "$sdk"/ndk/*/ 2>/dev/null | sort -V | tail -n 1 || true)"
fi

need llvm:llvm-readelf openjdk-17-jdk-headless:javac
[[ -n "$ndk" ]] || need clang lld:ld.lld
rustup target add "${triples[@]}" >/dev/null 2>&1 || rustup target add "${triples[@]}"
bash "$root/java/build.sh" >/dev/null   # the classes whose native methods the exports must match

target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
mkdir -p "$out"
if [[ -n "$ndk" ]]; then
    [[ -d "$ndk/toolchains/llvm/prebuilt" ]] || { echo "android-build: $ndk is not an NDK (no toolchains/llvm/prebuilt)" >&2; exit 1; }
    export ANDROID_NDK_HOME="${ndk%/}"
    echo "== NDK: $ANDROID_NDK_HOME ($(sed -n 's/^Pkg.Revision *= *//p' "$ANDROID_NDK_HOME/source.properties" 2>/dev/null || echo '?'))"
    command -v cargo-ndk >/dev/null || cargo install --locked cargo-ndk
    # 16 KB pages for every ABI (cargo-ndk adds it only for some NDK versions), and -z defs so a
    # symbol the device lacks at the API level fails the link as it does without the NDK.
    # The NDK's own flags for C code (scripts/lib.sh, android_cflags), as cc-rs reads them.
    for a in "${abis[@]}"; do
        android_abi "$a"
        var="CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$triple")_RUSTFLAGS"
        export "$var=${!var:-} -C link-arg=-Wl,-z,max-page-size=16384 -C link-arg=-Wl,-z,defs"
        var="CFLAGS_${triple//-/_}"
        export "$var=${!var:-} $(android_cflags "$a" "$api")"
    done
    targs=()
    for a in "${abis[@]}"; do targs+=(--target "$a"); done
    echo "== cargo ndk ${targs[*]} --platform $api --output-dir $out build --release --lib ${features[*]}"
    cargo ndk "${targs[@]}" --platform "$api" --output-dir "$out" build --release --lib "${features[@]}"
else
    unwind="$(rustc --print sysroot)/lib/rustlib/src/rust/src/llvm-project/libunwind"
    [[ -d "$unwind" ]] || rustup component add rust-src
    echo "== no NDK: stub sysroot from android/symbols.tsv (scripts/android-sysroot.sh)"
    for i in "${!abis[@]}"; do
        a="${abis[$i]}" t="${triples[$i]}"
        sysroot="$root/build/android/sysroot/$a"
        bash "$root/scripts/android-sysroot.sh" "$a" "$api" "$sysroot"
        T="$(tr 'a-z-' 'A-Z_' <<<"$t")" tt="${t//-/_}"
        # Only the cdylib: building the staticlib too would run LTO twice. The old library is
        # removed first so cargo links again against the sysroot just generated.
        rm -f "$target_dir/$t/release/libwxface.so" "$target_dir/$t/release/deps/libwxface.so"
        echo "== $a: cargo rustc --release --lib --target $t ${features[*]} --crate-type cdylib"
        env "CARGO_TARGET_${T}_LINKER=$sysroot/cc" "CC_$tt=$sysroot/cc" "AR_$tt=llvm-ar" \
            cargo rustc --release --lib --target "$t" "${features[@]}" --crate-type cdylib
        mkdir -p "$out/$a"
        cp "$target_dir/$t/release/libwxface.so" "$out/$a/libwxface.so"
    done
fi

echo "== verifying $out"
for a in "${abis[@]}"; do bash "$root/scripts/android-verify.sh" "$out/$a/libwxface.so" "$a" "$api"; done
echo "android-build: OK (${abis[*]} at API $api in $out)"
