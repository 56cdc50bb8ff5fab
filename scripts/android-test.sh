#!/usr/bin/env bash
# Tests of the Android packaging and of the checks that guard it (after `make android aar`):
#
#   1. the AAR: exact entry list, manifest (package, minSdkVersion 21), classes.jar holds the
#      classes of java/src compiled for Java 8 (class file major version <= 52), proguard.txt is
#      java/proguard-rules.pro, and every jni/<abi>/libwxface.so passes scripts/android-verify.sh
#      against the natives of the classes *in the AAR*; the local Maven repository holds the same
#      AAR and a pom with packaging aar.
#   2. the stub sysroot refuses what a device at API 21 lacks: for every ABI, a C object calling
#      getifaddrs (API 24) fails to link, while the same object calling sysconf (API 21) links.
#   3. every check of scripts/android-verify.sh can fail: a stand-in library with exactly the
#      real library's exports passes, and one variant per check (SONAME, extra export, missing
#      export, 4 KB alignment, foreign NEEDED, symbol from API 24, wrong version node, TEXTREL)
#      is refused with the matching message.
# Prints "N passed, M failed" and exits non-zero on any failure.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
aar="$root/build/android/wxface-$version.aar"
sysroots="$root/build/android/sysroot"
tmp=$work

[[ -f "$aar" ]] || { echo "android-test: $aar missing: run make aar first" >&2; exit 1; }

# ---- 1. The AAR --------------------------------------------------------------------------
x="$tmp/aar"
mkdir -p "$x" && (cd "$x" && jar xf "$aar")
mapfile -t abis < <(cd "$x/jni" && ls | sort)
expected="$({ printf '%s\n' AndroidManifest.xml classes.jar proguard.txt R.txt
    for a in "${abis[@]}"; do echo "jni/$a/libwxface.so"; done; } | sort)"
check "AAR entries are exactly the manifest, classes.jar, proguard.txt, R.txt and jni/<abi>/libwxface.so" \
    test "$(cd "$x" && find . -type f | sed 's|^\./||' | sort)" = "$expected"
for a in arm64-v8a armeabi-v7a x86_64; do
    check "AAR has jni/$a/libwxface.so" test -s "$x/jni/$a/libwxface.so"
done
check "AndroidManifest.xml: package com.wxface, minSdkVersion 21" \
    bash -c "grep -q 'package=\"com.wxface\"' '$x/AndroidManifest.xml' && grep -q 'android:minSdkVersion=\"21\"' '$x/AndroidManifest.xml'"
check "proguard.txt is java/proguard-rules.pro" cmp "$x/proguard.txt" "$root/java/proguard-rules.pro"
mkdir -p "$x/classes" && (cd "$x/classes" && jar xf ../classes.jar)
check "classes.jar holds exactly the classes of java/src" test \
    "$(cd "$x/classes" && find . -name '*.class' | sort)" = "$(cd "$root/build/java/classes" && find . -name '*.class' | sort)"
check "classes.jar has the public API" bash -c "for c in WxFaceClient WxFaceConfig 'WxFaceConfig\$Builder' Authinfo AuthinfoRequest WxFaceException SignType CallOptions WxFaceLogger; do test -f '$x/classes/com/wxface/'\"\$c\".class || { echo \"missing \$c\"; exit 1; }; done"
mapfile -t cls < <(cd "$x/classes" && find . -name '*.class' | sed 's|^\./||; s|\.class$||; s|/|.|g')
majors="$(javap -v -cp "$x/classes" "${cls[@]}" | awk '/major version/ { print $3 }' | sort -u | tr '\n' ' ')"
check "classes.jar targets Java 8 for D8 (class file major versions: ${majors% })" \
    bash -c "for m in $majors; do [ \"\$m\" -le 52 ] || exit 1; done"
for a in "${abis[@]}"; do
    check "jni/$a/libwxface.so verifies against the AAR's own classes" \
        bash "$root/scripts/android-verify.sh" "$x/jni/$a/libwxface.so" "$a" 21 "$x/classes"
done
m="$root/build/android/maven/com/wxface/wxface/$version"
check "local Maven repository: the same AAR, a pom with packaging aar" bash -c \
    "cmp '$m/wxface-$version.aar' '$aar' && grep -q '<packaging>aar</packaging>' '$m/wxface-$version.pom' && grep -q '<version>$version</version>' '$m/wxface-$version.pom'"

# ---- 2. A symbol introduced after API 21 fails the link ---------------------------------------
# (-nodefaultlibs -lc as rustc links: plain clang would also ask for libgcc, which Android lacks.)
cat >"$tmp/getifaddrs.c" <<'C'
struct ifaddrs;
int getifaddrs(struct ifaddrs** out);
int probe(void) { struct ifaddrs* list = 0; return getifaddrs(&list); }
C
cat >"$tmp/sysconf.c" <<'C'
long sysconf(int name);
long probe(void) { return sysconf(39); }
C
for a in "${abis[@]}"; do
    s="$sysroots/$a"
    check "$a: a C object calling sysconf (API 21) links" "$s/cc" -shared -fPIC -nodefaultlibs -lc "$tmp/sysconf.c" -o "$tmp/ok-$a.so"
    if "$s/cc" -shared -fPIC -nodefaultlibs -lc "$tmp/getifaddrs.c" -o "$tmp/bad-$a.so" >"$tmp/link.log" 2>&1; then
        ko "$a: a C object calling getifaddrs (API 24) must fail to link, and it linked"
    elif grep -q "undefined symbol: getifaddrs" "$tmp/link.log"; then
        ok "$a: a C object calling getifaddrs (API 24) fails to link ($(grep -m1 -o 'undefined symbol: getifaddrs' "$tmp/link.log"))"
    else
        ko "$a: getifaddrs link failed for another reason"; sed 's/^/     /' "$tmp/link.log"
    fi
done

# ---- 3. Each check of android-verify.sh can fail ----------------------------------------------
# A stand-in with the real x86 library's exports (x86: 32-bit, where text relocations can be made).
a=x86
s="$sysroots/$a"
real="$root/build/android/jniLibs/$a/libwxface.so"
if [[ -d "$s" && -f "$real" ]]; then
    llvm-nm -D --defined-only "$real" | awk '{ print $3 }' | sed 's/@.*//' | sort -u >"$tmp/exports"
    awk '{ printf "void %s(void) {}\n", $1 }' "$tmp/exports" >"$tmp/good.c"
    grep -v '^void Java_com_wxface_WxFaceClient_nativeVersion' "$tmp/good.c" >"$tmp/missing.c"
    { cat "$tmp/good.c"; echo 'void wxface_not_in_the_header(void) {}'; } >"$tmp/extra.c"
    { cat "$tmp/good.c"; echo 'int getifaddrs(void*); __attribute__((visibility("hidden"))) int use24(void) { return getifaddrs(0); }'; } >"$tmp/api24.c"
    { cat "$tmp/good.c"; echo 'long sysconf(int); __attribute__((visibility("hidden"))) long use(void) { return sysconf(39); }'; } >"$tmp/version.c"
    { cat "$tmp/good.c"; echo 'void foo(void); __attribute__((visibility("hidden"))) void usefoo(void) { foo(); }'; } >"$tmp/needed.c"
    printf '__attribute__((visibility("hidden"))) int g;\n__attribute__((visibility("hidden"))) int* addr(void) { return &g; }\n' >"$tmp/textrel.c"
    target=(--target=i686-linux-android21 -nostdlibinc -isystem "$root/android/include")
    link() { # link OUT PAGE SYSROOT SOURCES... EXTRA...
        local o="$1" p="$2" d="$3"; shift 3
        clang "${target[@]}" -fuse-ld=lld -B"$d" -L"$d" -shared -fPIC -nodefaultlibs -lc "$@" -o "$o" \
            -Wl,-z,max-page-size="$p"
    }
    verify_fails() { # verify_fails NAME SO MESSAGE
        if bash "$root/scripts/android-verify.sh" "$2" "$a" 21 >"$tmp/v.log" 2>&1; then
            ko "verify refuses $1: it passed"
        elif grep -q -- "$3" "$tmp/v.log"; then
            ok "verify refuses $1 ($(grep -m1 -o -- "$3.*" "$tmp/v.log" | cut -c1-90))"
        else
            ko "verify refuses $1, but not with '$3'"; sed 's/^/     /' "$tmp/v.log"
        fi
    }
    # A sysroot at API 24 (where getifaddrs exists) and a libc whose sysconf has another node.
    bash "$root/scripts/android-sysroot.sh" "$a" 24 "$tmp/sysroot24" >/dev/null
    mkdir -p "$tmp/odd" && cp "$s"/{crtbegin_so.o,crtend_so.o,libm.so,libdl.so,liblog.so,libunwind.a} "$tmp/odd/"
    printf '\t.text\n\t.globl sysconf\n\t.type sysconf, %%function\nsysconf:\n' >"$tmp/odd/libc.S"
    printf 'LIBC_WRONG {\n  global:\n    sysconf;\n};\n' >"$tmp/odd/libc.ver"
    clang "${target[@]}" -shared -nostdlib -fuse-ld=lld -Wl,-soname,libc.so -Wl,--version-script="$tmp/odd/libc.ver" "$tmp/odd/libc.S" -o "$tmp/odd/libc.so"
    printf '\t.text\n\t.globl foo\n\t.type foo, %%function\nfoo:\n' >"$tmp/foo.S"
    clang "${target[@]}" -shared -nostdlib -fuse-ld=lld -Wl,-soname,libfoo.so "$tmp/foo.S" -o "$tmp/libfoo.so"
    clang "${target[@]}" -fno-pic -O2 -c "$tmp/textrel.c" -o "$tmp/textrel.o"

    link "$tmp/good.so" 16384 "$s" "$tmp/good.c" -Wl,-soname,libwxface.so -Wl,-z,defs
    check "verify accepts a stand-in with the real exports, SONAME, alignment and libc" \
        bash "$root/scripts/android-verify.sh" "$tmp/good.so" "$a" 21
    link "$tmp/soname.so" 16384 "$s" "$tmp/good.c" -Wl,-soname,libwxface.so.0
    verify_fails "a wrong SONAME" "$tmp/soname.so" "SONAME is 'libwxface.so.0'"
    link "$tmp/extra.so" 16384 "$s" "$tmp/extra.c" -Wl,-soname,libwxface.so
    verify_fails "an export that is not in the header" "$tmp/extra.so" "exports wxface_not_in_the_header"
    link "$tmp/missing.so" 16384 "$s" "$tmp/missing.c" -Wl,-soname,libwxface.so
    verify_fails "a missing JNI export" "$tmp/missing.so" "does not export Java_com_wxface_WxFaceClient_nativeVersion"
    link "$tmp/align.so" 4096 "$s" "$tmp/good.c" -Wl,-soname,libwxface.so
    verify_fails "4 KB LOAD alignment" "$tmp/align.so" "LOAD segment aligned to 0x1000"
    link "$tmp/needed.so" 16384 "$s" "$tmp/needed.c" -Wl,-soname,libwxface.so "$tmp/libfoo.so"
    verify_fails "a NEEDED library outside bionic" "$tmp/needed.so" "NEEDED libfoo.so"
    link "$tmp/api24.so" 16384 "$tmp/sysroot24" "$tmp/api24.c" -Wl,-soname,libwxface.so
    verify_fails "a symbol from API 24 (linked against API-24 stubs)" "$tmp/api24.so" "getifaddrs@LIBC_N does not exist"
    link "$tmp/version.so" 16384 "$tmp/odd" "$tmp/version.c" -Wl,-soname,libwxface.so
    verify_fails "a symbol with the wrong version node" "$tmp/version.so" "sysconf@LIBC_WRONG"
    link "$tmp/textrel.so" 16384 "$s" "$tmp/good.c" "$tmp/textrel.o" -Wl,-soname,libwxface.so -Wl,-z,notext
    verify_fails "text relocations" "$tmp/textrel.so" "TEXTREL"
else
    ko "verify self-test needs the x86 build (build/android/sysroot/x86 and jniLibs/x86)"
fi

echo
finish
