#!/usr/bin/env bash
# The real Android build of libwxface.so (C ABI + JNI binding in one library), on a machine with
# the Android NDK (r23 or later; r27+ recommended). Produces the layout an app expects:
#
#   <out>/arm64-v8a/libwxface.so
#   <out>/armeabi-v7a/libwxface.so
#   <out>/x86_64/libwxface.so
#
# Copy <out>/* to app/src/main/jniLibs/ (or point the module's jniLibs source set at <out>) and
# add build/java/wxface.jar (`make java`) to the app's dependencies.
#
# Every library is linked with -Wl,-z,max-page-size=16384 so it loads on 16 KB page devices
# (required for 64-bit ABIs on Google Play since Android 15), and the script checks the ELF
# LOAD segment alignment afterwards.
#
# Usage: ANDROID_NDK_HOME=/path/to/ndk scripts/android-build.sh [OUT_DIR]
#   OUT_DIR          default build/android/jniLibs
#   ANDROID_API      minimum API level (default 21)
#   PROFILE          cargo profile (default release)
# The NDK is found through ANDROID_NDK_HOME / ANDROID_NDK_ROOT, or ANDROID_HOME/ndk/<version>
# (cargo-ndk's own lookup).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-$root/build/android/jniLibs}"
api="${ANDROID_API:-21}"
profile="${PROFILE:-release}"

abis=(arm64-v8a armeabi-v7a x86_64)
triples=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)

ndk="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
if [[ -z "$ndk" && -n "${ANDROID_HOME:-${ANDROID_SDK_ROOT:-}}" ]]; then
    sdk="${ANDROID_HOME:-$ANDROID_SDK_ROOT}"
    ndk="$(ls -d "$sdk"/ndk/*/ 2>/dev/null | sort -V | tail -n 1 || true)"
fi
if [[ -z "$ndk" || ! -d "$ndk/toolchains/llvm/prebuilt" ]]; then
    echo "android-build: no Android NDK found. Set ANDROID_NDK_HOME to the NDK root" >&2
    echo "  (Android Studio: SDK Manager > SDK Tools > NDK; or sdkmanager 'ndk;27.2.12479018')." >&2
    exit 1
fi
export ANDROID_NDK_HOME="${ndk%/}"
echo "== NDK: $ANDROID_NDK_HOME ($(sed -n 's/^Pkg.Revision *= *//p' "$ANDROID_NDK_HOME/source.properties" 2>/dev/null || echo '?'))"

rustup target add "${triples[@]}"
command -v cargo-ndk >/dev/null || cargo install --locked cargo-ndk

# Per-target link flags (they do not reach build scripts or proc macros, which run on the host).
# cargo-ndk adds max-page-size itself for 64-bit ABIs on NDK <= r27 (r28+ defaults to 16 KB);
# passing it explicitly keeps every cargo-ndk/NDK combination, and armeabi-v7a, consistent.
for t in "${triples[@]}"; do
    var="CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$t")_RUSTFLAGS"
    export "$var=${!var:-} -C link-arg=-Wl,-z,max-page-size=16384"
done

targs=()
for a in "${abis[@]}"; do targs+=(--target "$a"); done
profile_args=(--profile "$profile")
[[ "$profile" == "release" ]] && profile_args=(--release)

echo "== cargo ndk ${targs[*]} --platform $api --output-dir $out build ${profile_args[*]} --lib --features jni"
cargo ndk "${targs[@]}" --platform "$api" --output-dir "$out" build "${profile_args[@]}" --lib --features jni

readelf="$(ls "$ANDROID_NDK_HOME"/toolchains/llvm/prebuilt/*/bin/llvm-readelf 2>/dev/null | head -n 1)"
[[ -n "$readelf" ]] || readelf="$(command -v llvm-readelf || command -v readelf)"
echo "== checking $out"
for a in "${abis[@]}"; do
    so="$out/$a/libwxface.so"
    [[ -f "$so" ]] || { echo "android-build: $so missing" >&2; exit 1; }
    # Every PT_LOAD segment must be aligned to at least 16 KB (0x4000).
    aligns="$("$readelf" -lW "$so" | awk '$1 == "LOAD" { print $NF }')"
    [[ -n "$aligns" ]] || { echo "android-build: no LOAD segments read from $so" >&2; exit 1; }
    for align in $aligns; do
        ((align >= 16384)) || { echo "android-build: $so has a LOAD alignment of $align (< 16 KB)" >&2; exit 1; }
    done
    for e in nativeCreate nativeFree nativeGetAuthinfo nativeVersion; do
        "$readelf" --dyn-syms -W "$so" | grep -q "Java_com_wxface_WxFaceClient_$e" \
            || { echo "android-build: $so does not export Java_com_wxface_WxFaceClient_$e" >&2; exit 1; }
    done
    echo "  $a/libwxface.so  $(du -h "$so" | cut -f1)  LOAD align >= 16 KB, JNI exports present"
done
echo "android-build: OK. Copy $out/* into app/src/main/jniLibs/."
