#!/usr/bin/env bash
# The Java classes refuse a libwxface from another release (run by java/test.sh): on load,
# WxFaceClient compares the library's nativeAbiVersion() with its ABI_VERSION and throws an
# UnsatisfiedLinkError naming both. Checks, on the desktop JVM:
#   1. ABI_VERSION equals WXFACE_ABI_VERSION of include/wxface.h;
#   2. the matching pair (these classes, target/debug/libwxface.so built with --features jni)
#      loads;
#   3. classes expecting ABI_VERSION+1 with the real library fail, naming both versions and the
#      library's version;
#   4. a stand-in library reporting ABI 7 fails the same way, naming 7 and ABI_VERSION;
#   5. a stand-in library from before the check (no nativeAbiVersion) fails with a clear message.
# Prints "N passed, M failed".
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
tmp=$work

target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
cargo build --lib --features jni   # no-op when java/test.sh has just built it
bash java/build.sh >/dev/null

header_abi="$(sed -n 's/^#define WXFACE_ABI_VERSION \([0-9]*\).*/\1/p' include/wxface.h)"
java_abi="$(javap -constants -p -cp build/java/classes com.wxface.WxFaceClient | sed -n 's/.*int ABI_VERSION = \([0-9]*\);.*/\1/p')"
if [[ -n "$header_abi" && "$header_abi" == "$java_abi" ]]; then
    ok "WxFaceClient.ABI_VERSION ($java_abi) equals WXFACE_ABI_VERSION ($header_abi)"
else
    ko "WxFaceClient.ABI_VERSION ($java_abi) differs from WXFACE_ABI_VERSION ($header_abi)"
fi

mkdir -p "$tmp/probe"
cat >"$tmp/probe/AbiProbe.java" <<'JAVA'
public final class AbiProbe {
    public static void main(String[] args) {
        try {
            System.out.println("loaded " + com.wxface.WxFaceClient.libraryVersion());
        } catch (UnsatisfiedLinkError e) {
            System.out.println("refused: " + e.getMessage());
            System.exit(3);
        }
    }
}
JAVA
javac --release 8 -cp build/java/classes -d "$tmp/probe" "$tmp/probe/AbiProbe.java"

# run NAME CLASSES LIBDIR EXPECT_STATUS PATTERN...: every pattern must be in the output.
run() {
    local name="$1" classes="$2" libdir="$3" want="$4" status=0 p miss=""
    shift 4
    java -Xcheck:jni -Djava.library.path="$libdir" -cp "$classes:$tmp/probe" AbiProbe >"$tmp/out" 2>&1 || status=$?
    for p in "$@"; do grep -qF -- "$p" "$tmp/out" || miss="$miss [$p]"; done
    if grep -qE "WARNING|FATAL ERROR" "$tmp/out"; then miss="$miss [no JNI warning]"; fi
    if [[ "$status" == "$want" && -z "$miss" ]]; then
        ok "$name: $(head -c 200 "$tmp/out" | tr '\n' ' ')"
    else
        ko "$name: exit $status (want $want), missing:$miss"; sed 's/^/     /' "$tmp/out"
    fi
}

run "the matching pair loads" build/java/classes "$target_dir/debug" 0 "loaded $version"

# Classes from a (pretend) newer release: ABI_VERSION + 1.
next=$((java_abi + 1))
mkdir -p "$tmp/src" "$tmp/newer"
cp -r java/src/. "$tmp/src/"
sed -i "s/static final int ABI_VERSION = $java_abi;/static final int ABI_VERSION = $next;/" "$tmp/src/com/wxface/WxFaceClient.java"
grep -q "ABI_VERSION = $next;" "$tmp/src/com/wxface/WxFaceClient.java" || { echo "abi-test: could not change ABI_VERSION" >&2; exit 1; }
# shellcheck disable=SC2046
javac --release 8 -encoding UTF-8 -nowarn -d "$tmp/newer" $(find "$tmp/src" -name '*.java')
run "newer classes with this library are refused" "$tmp/newer" "$target_dir/debug" 3 \
    "native ABI version mismatch" "libwxface $version has native ABI version $java_abi" "expect native ABI version $next"

# Stand-in libraries: one reporting ABI 7, one from before nativeAbiVersion existed.
jhome="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
cat >"$tmp/abi7.c" <<'C'
#include <jni.h>
JNIEXPORT jint JNICALL Java_com_wxface_WxFaceClient_nativeAbiVersion(JNIEnv* env, jclass c) { (void)env; (void)c; return 7; }
JNIEXPORT jstring JNICALL Java_com_wxface_WxFaceClient_nativeVersion(JNIEnv* env, jclass c) { (void)c; return (*env)->NewStringUTF(env, "9.9.9"); }
C
cat >"$tmp/old.c" <<'C'
#include <jni.h>
JNIEXPORT jstring JNICALL Java_com_wxface_WxFaceClient_nativeVersion(JNIEnv* env, jclass c) { (void)c; return (*env)->NewStringUTF(env, "0.0.1"); }
C
mkdir -p "$tmp/abi7" "$tmp/old"
cc -shared -fPIC -I"$jhome/include" -I"$jhome/include/linux" "$tmp/abi7.c" -o "$tmp/abi7/libwxface.so"
cc -shared -fPIC -I"$jhome/include" -I"$jhome/include/linux" "$tmp/old.c" -o "$tmp/old/libwxface.so"
run "a library reporting ABI 7 is refused" build/java/classes "$tmp/abi7" 3 \
    "libwxface 9.9.9 has native ABI version 7" "expect native ABI version $java_abi"
run "a library without an ABI version is refused" build/java/classes "$tmp/old" 3 \
    "the loaded libwxface has no ABI version" "expect native ABI version $java_abi"

finish
