#!/usr/bin/env bash
# make android-test (after `make android aar`): 1. the AAR's entries, manifest, Java 8 classes,
# proguard.txt, each jni/<abi>/libwxface.so verified against the AAR's own classes, the Maven copy;
# 2. the stub sysroot refuses a symbol from after API 21 (getifaddrs) and x86 C code realigns the
# stack; 3. every check of scripts/android-verify.sh refuses a stand-in library doctored for it.
# The full list: docs/android.md. Prints "N passed, M failed" and exits non-zero on any failure.
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

# refuses NAME MESSAGE COMMAND...: the command must fail, saying MESSAGE.
refuses() {
    if "${@:3}" >"$tmp/r.log" 2>&1; then ko "$1: it succeeded"
    elif grep -q -- "$2" "$tmp/r.log"; then ok "$1 ($(grep -m1 -o -- "$2.*" "$tmp/r.log" | cut -c1-90))"
    else ko "$1, but not with '$2'"; sed 's/^/     /' "$tmp/r.log"; fi
}

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
    refuses "$a: a C object calling getifaddrs (API 24) fails to link" "undefined symbol: getifaddrs" \
        "$s/cc" -shared -fPIC -nodefaultlibs -lc "$tmp/getifaddrs.c" -o "$tmp/bad-$a.so"
done

# x86 below API 24: C code built with the stub sysroot (ring through the wrapper, libunwind.a)
# realigns the stack, as the NDK's does (-mstackrealign, scripts/lib.sh android_cflags).
s="$sysroots/x86"
printf 'void g(double*);\nvoid f(void) { double x[2] __attribute__((aligned(16))); g(x); }\n' >"$tmp/align.c"
check "x86: the wrapper compiles C with -mstackrealign at API 21" bash -c \
    "'$s/cc' -O2 -c '$tmp/align.c' -o '$tmp/align.o' && llvm-objdump -d '$tmp/align.o' | grep -q 'andl.*esp'"
check "x86: libunwind.a realigns the stack" bash -c "llvm-objdump -d '$s/libunwind.a' | grep -q 'andl.*esp'"

# ---- 3. Each check of android-verify.sh can fail ----------------------------------------------
# A stand-in with the real x86 library's exports (x86: 32-bit, where text relocations can be made).
a=x86
s="$sysroots/$a"
real="$root/build/android/jniLibs/$a/libwxface.so"
if [[ -d "$s" && -f "$real" ]]; then
    llvm-nm -D --defined-only "$real" | awk '{ print $3 }' | sed 's/@.*//' | sort -u >"$tmp/exports"
    awk '{ printf "void %s(void) {}\n", $1 }' "$tmp/exports" >"$tmp/good.c"
    grep -v '^void Java_com_wxface_WxFaceClient_nativeVersion' "$tmp/good.c" >"$tmp/missing.c"
    hidden='__attribute__((visibility("hidden")))'
    with() { { cat "$tmp/good.c"; echo "$2"; } >"$tmp/$1.c"; } # with NAME C-LINE: good.c plus a line
    with extra 'void wxface_not_in_the_header(void) {}'
    with api24 "int getifaddrs(void*); $hidden int use24(void) { return getifaddrs(0); }"
    with version "long sysconf(int); $hidden long use(void) { return sysconf(39); }"
    with needed "void foo(void); $hidden void usefoo(void) { foo(); }"
    with weak "extern void weak_probe(void) __attribute__((weak)); $hidden void (*wp)(void) = weak_probe;"
    forbidden=(__emutls_get_address __cxa_thread_atexit_impl pthread_atfork)
    for f in "${forbidden[@]}"; do
        with "$f" "extern void* $f(void*) __attribute__((weak)); $hidden void* use(void) { return $f ? $f(0) : 0; }"
    done
    printf '%s int g;\n%s int* addr(void) { return &g; }\n' "$hidden" "$hidden" >"$tmp/textrel.c"
    target=(--target=i686-linux-android21 -nostdlibinc -isystem "$root/android/include")
    link() { # link OUT SYSROOT SOURCES-AND-FLAGS...: SONAME libwxface.so and 16 KB pages unless overridden
        local o="$1" d="$2"
        shift 2
        clang "${target[@]}" -fuse-ld=lld -B"$d" -L"$d" -shared -fPIC -nodefaultlibs -lc -o "$o" \
            -Wl,-soname,libwxface.so -Wl,-z,max-page-size=16384 "$@"
    }
    fault() { # fault NAME MESSAGE SYSROOT SOURCES-AND-FLAGS...: a doctored stand-in verify must refuse
        local name=$1 msg=$2 d=$3
        shift 3
        link "$tmp/fault.so" "$d" "$@" &&
            refuses "verify refuses $name" "$msg" bash "$root/scripts/android-verify.sh" "$tmp/fault.so" "$a" 21
    }
    # A sysroot at API 24 (where getifaddrs exists, and crtbegin_so's note says 24), a libc whose
    # sysconf has another node, a foreign library, an object with text relocations, and headers
    # whose pthread_rwlock_t is not bionic's.
    bash "$root/scripts/android-sysroot.sh" "$a" 24 "$tmp/sysroot24" >/dev/null
    mkdir -p "$tmp/odd" && cp "$s"/{crtbegin_so.o,crtend_so.o,libm.so,libdl.so,liblog.so,libunwind.a} "$tmp/odd/"
    printf '\t.text\n\t.globl sysconf\n\t.type sysconf, %%function\nsysconf:\n' >"$tmp/odd/libc.S"
    printf 'LIBC_WRONG {\n  global:\n    sysconf;\n};\n' >"$tmp/odd/libc.ver"
    clang "${target[@]}" -shared -nostdlib -fuse-ld=lld -Wl,-soname,libc.so -Wl,--version-script="$tmp/odd/libc.ver" "$tmp/odd/libc.S" -o "$tmp/odd/libc.so"
    printf '\t.text\n\t.globl foo\n\t.type foo, %%function\nfoo:\n' >"$tmp/foo.S"
    clang "${target[@]}" -shared -nostdlib -fuse-ld=lld -Wl,-soname,libfoo.so "$tmp/foo.S" -o "$tmp/libfoo.so"
    clang "${target[@]}" -fno-pic -O2 -c "$tmp/textrel.c" -o "$tmp/textrel.o"
    cp -r "$root/android/include" "$tmp/include" && sed -i 's/__private\[10\]/__private[9]/' "$tmp/include/pthread.h"

    link "$tmp/good.so" "$s" "$tmp/good.c" -Wl,-z,defs
    check "verify accepts a stand-in with the real exports, SONAME, alignment and libc" \
        bash "$root/scripts/android-verify.sh" "$tmp/good.so" "$a" 21
    fault "a wrong SONAME" "SONAME is 'libwxface.so.0'" "$s" "$tmp/good.c" -Wl,-soname,libwxface.so.0
    fault "an export that is not in the header" "exports wxface_not_in_the_header" "$s" "$tmp/extra.c"
    fault "a missing JNI export" "does not export Java_com_wxface_WxFaceClient_nativeVersion" "$s" "$tmp/missing.c"
    fault "4 KB LOAD alignment" "LOAD segment aligned to 0x1000" "$s" "$tmp/good.c" -Wl,-z,max-page-size=4096
    fault "a NEEDED library outside bionic" "NEEDED libfoo.so" "$s" "$tmp/needed.c" "$tmp/libfoo.so"
    fault "a symbol from API 24 (linked against API-24 stubs)" "getifaddrs@LIBC_N does not exist" "$tmp/sysroot24" "$tmp/api24.c"
    fault "a symbol with the wrong version node" "sysconf@LIBC_WRONG" "$tmp/odd" "$tmp/version.c"
    fault "text relocations" "TEXTREL" "$s" "$tmp/good.c" "$tmp/textrel.o" -Wl,-z,notext
    fault "no DT_HASH (GNU hash only)" "has no DT_HASH" "$s" "$tmp/good.c" -Wl,--hash-style=gnu
    fault "DT_RELR" "has RELR" "$s" "$tmp/good.c" -Wl,--pack-dyn-relocs=relr
    fault "Android packed relocations" "has ANDROID_REL" "$s" "$tmp/good.c" -Wl,--pack-dyn-relocs=android
    fault "FLAGS_1 beyond NOW" "FLAGS_1 is 'NOW NODELETE'" "$s" "$tmp/good.c" -Wl,-z,nodelete
    fault "an executable stack" "GNU_STACK is 'RWE'" "$s" "$tmp/good.c" -Wl,-z,execstack
    fault "an ident note for another API level" "ident note says API 24, not 21" "$tmp/sysroot24" "$tmp/good.c"
    fault "a weak import bound by an absolute relocation" "weak import weak_probe is bound by R_386_32" "$s" "$tmp/weak.c"
    for f in "${forbidden[@]}"; do fault "an import of $f" "imports $f" "$s" "$tmp/$f.c"; done
    refuses "verify refuses headers whose pthread_rwlock_t is not bionic's" \
        "android/include differs from bionic: requirement 'sizeof(pthread_rwlock_t) == 40'" \
        env ANDROID_INCLUDE="$tmp/include" bash "$root/scripts/android-verify.sh" "$tmp/good.so" "$a" 21
else
    ko "verify self-test needs the x86 build (build/android/sysroot/x86 and jniLibs/x86)"
fi

echo
finish
