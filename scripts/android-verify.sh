#!/usr/bin/env bash
# Static verification of an Android libwxface.so (nothing here runs it): SONAME, NEEDED, 16 KB
# LOAD alignment, every import present at the minimum API level (android/symbols.tsv) with its
# version node, what old loaders read (DT_HASH, no RELR/packed relocations/TEXTREL, FLAGS_1, stack,
# ident note, weak binds), forbidden imports, the stub headers against bionic
# (android/abi_check.c; $ANDROID_INCLUDE overrides android/include), and exports exactly the C API
# plus one Java_* per native method (javap). Each check is listed in docs/android.md, "Building for
# Android"; scripts/android-test.sh makes each one fail once.
#
# Usage: scripts/android-verify.sh SO ABI [API] [CLASSES_DIR]
#   CLASSES_DIR defaults to build/java/classes (built by java/build.sh if missing).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
so="$(cd "$caller_dir" && realpath "${1:?usage: $0 SO ABI [API] [CLASSES_DIR]}")"
abi="${2:?usage: $0 SO ABI [API] [CLASSES_DIR]}"
api="${3:-21}"
classes="${4:-$root/build/java/classes}"
android_abi "$abi"
fail=0
bad() { echo "android-verify: $abi: $*" >&2; fail=1; }
tmp=$work

llvm-readelf -dW "$so" >"$tmp/dynamic"
llvm-readelf -lW "$so" >"$tmp/segments"
llvm-readelf --dyn-syms -W "$so" >"$tmp/dynsyms"
llvm-readelf -rW "$so" >"$tmp/relocs"

# SONAME and NEEDED.
soname="$(sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p' "$tmp/dynamic")"
[[ "$soname" == "libwxface.so" ]] || bad "SONAME is '$soname', not libwxface.so"
needed="$(sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' "$tmp/dynamic" | sort | tr '\n' ' ')"
for n in $needed; do
    case "$n" in libc.so | libdl.so | libm.so | liblog.so) ;; *) bad "NEEDED $n is not a bionic system library" ;; esac
done

# 16 KB LOAD alignment.
mapfile -t aligns < <(awk '$1 == "LOAD" { print $NF }' "$tmp/segments")
nload=${#aligns[@]}
((nload)) || bad "no LOAD segments"
for a in "${aligns[@]}"; do (( a >= 0x4000 && a % 0x4000 == 0 )) || bad "LOAD segment aligned to $a, not 16 KB"; done

# What the loader of the minimum API level reads: no TEXTREL, the dynamic tags, the stack, the ident note.
! grep -q TEXTREL "$tmp/dynamic" || bad "has text relocations (TEXTREL)"
has '(HASH)' "$tmp/dynamic" || bad "has no DT_HASH (only DT_GNU_HASH)"
while read -r tag; do bad "has $tag (relative or Android packed relocations)"; done \
    < <(grep -oE '\((RELR|RELRSZ|RELRENT|ANDROID_[A-Z]+)\)' "$tmp/dynamic" | tr -d '()' | sort -u)
flags1="$(sed -n 's/.*(FLAGS_1) *//p' "$tmp/dynamic" | xargs)"
[[ -z "$flags1" || "$flags1" == NOW ]] || bad "FLAGS_1 is '$flags1', not NOW only"
stack="$(awk '$1 == "GNU_STACK" { print $(NF - 1) }' "$tmp/segments")"
[[ "$stack" == RW ]] || bad "GNU_STACK is '${stack:-missing}', not RW (non-executable)"
ident="$(llvm-readelf -n "$so" | awk '$1 == "Android" { a = 1; next } a && /description data:/ { print $6 $5 $4 $3; exit }')"
(( 16#${ident:-0} == api )) 2>/dev/null || bad "the Android ident note says API $(( 16#${ident:-0} )), not $api"

# Undefined symbols against the symbol table at this API level.
awk '$7 == "UND" && $8 != "" { print $5, $8 }' "$tmp/dynsyms" >"$tmp/undef"
awk -F'\t' -v col="$col" -v api="$api" '
    FNR == NR {
        if ($0 ~ /^#/ || $col == "-" || $col + 0 > api) next
        ver = ($3 != "-" && ($9 == "-" || $9 + 0 <= api)) ? $3 : ""
        have[$1] = ver; lib[$1] = $2; next
    }
    {
        split($0, f, " "); bind = f[1]; name = f[2]; ver = ""
        if (index(name, "@")) { ver = substr(name, index(name, "@") + 1); name = substr(name, 1, index(name, "@") - 1) }
        if (!(name in have)) {
            if (bind == "WEAK" && ver == "") { print "weak\t" name; next }
            print "missing\t" name (ver != "" ? "@" ver : ""); next
        }
        if (have[name] != ver) { print "version\t" name "@" ver " (API " api " has " (have[name] == "" ? "no version" : "@" have[name]) ")"; next }
        print "ok\t" name "\t" lib[name]
    }' "$root/android/symbols.tsv" "$tmp/undef" >"$tmp/undef-check"
while IFS=$'\t' read -r what rest; do case "$what" in
    missing) bad "undefined symbol $rest does not exist on $abi at API $api" ;; version) bad "undefined symbol $rest" ;;
esac; done <"$tmp/undef-check"
nund="$(grep -c '^ok' "$tmp/undef-check" || true)"
for s in __emutls_get_address __cxa_thread_atexit_impl pthread_atfork; do
    ! awk -v s="$s" '{ sub(/@.*/, "", $2) } $2 == s { f = 1 } END { exit !f }' "$tmp/undef" || bad "imports $s"
done
awk '$7 == "UND" && $5 == "WEAK" { sub(/@.*/, "", $8); print $8 }' "$tmp/dynsyms" | sort -u >"$tmp/weak"
while read -r type name; do bad "weak import $name is bound by $type, not JUMP_SLOT/GLOB_DAT"; done < <(
    awk 'FNR == NR { w[$1] = 1; next } NF >= 5 && $3 ~ /^R_/ { n = $5; sub(/@.*/, "", n); if ((n in w) && $3 !~ /_(JUMP_SLOT|GLOB_DAT)$/) print $3, n }' \
        "$tmp/weak" "$tmp/relocs")

# The stub headers against bionic's figures (android/abi_check.c), for this ABI.
clang --target="$clang$api" -nostdlibinc -isystem "${ANDROID_INCLUDE:-$root/android/include}" -fsyntax-only \
    "$root/android/abi_check.c" 2>"$tmp/abi.log" ||
    bad "android/include differs from bionic: $(grep -o 'requirement .*' "$tmp/abi.log" | head -n1)"
weak="$(awk -F'\t' '$1 == "weak" { printf "%s ", $2 }' "$tmp/undef-check")"

# Exports: the C API of the header plus every native method of the Java classes.
if [[ ! -d "$classes/com" ]]; then bash "$root/java/build.sh" >/dev/null; fi
header_functions >"$tmp/want-c"
mapfile -t classnames < <(cd "$classes" && find . -name '*.class' | sed 's|^\./||; s|\.class$||; s|/|.|g' | sort)
javap -p -cp "$classes" "${classnames[@]}" | awk '
    # JNI short names: "_" -> "_1", "$" -> "_00024", "." and "/" -> "_".
    function mangle(s,   out, i, c) {
        out = ""
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1)
            if (c == "_") out = out "_1"; else if (c == "$") out = out "_00024"; else if (c == ".") out = out "_"; else out = out c
        }
        return out
    }
    /(class|interface|enum) [A-Za-z0-9_.$]+/ {
        for (i = 1; i <= NF; i++) if ($(i - 1) ~ /^(class|interface|enum)$/) { cls = $i; sub(/<.*/, "", cls); break }
    }
    / native / {
        m = $0; sub(/\(.*/, "", m); n = split(m, w, " "); name = w[n]
        if (++seen[cls "." name] > 1) { print "overloaded native method " cls "." name > "/dev/stderr"; exit 1 }
        print "Java_" mangle(cls) "_" mangle(name)
    }' | sort -u >"$tmp/want-java"
cat "$tmp/want-c" "$tmp/want-java" | sort >"$tmp/want"
awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") && $8 != "" { n = $8; sub(/@.*/, "", n); print n }' \
    "$tmp/dynsyms" | sort -u >"$tmp/have"
while read -r s; do bad "exports $s, which is neither in include/wxface.h nor a Java native method"; done \
    < <(comm -13 "$tmp/want" "$tmp/have")
while read -r s; do bad "does not export $s"; done < <(comm -23 "$tmp/want" "$tmp/have")

if ((fail)); then
    echo "android-verify: $abi: FAILED ($so)" >&2
    exit 1
fi
printf 'android-verify: %s OK: %s bytes; SONAME %s; NEEDED %s; %d LOAD segments aligned to 16 KB; no TEXTREL, DT_HASH, no RELR, FLAGS_1 %s, GNU_STACK RW, ident note API %s; %d undefined symbols present at API %s with their versions%s; exports %d C + %d JNI, exactly\n' \
    "$abi" "$(stat -c %s "$so")" "$soname" "${needed% }" "$nload" "${flags1:-none}" "$api" "$nund" "$api" \
    "${weak:+ (weak, resolved at run time if present: ${weak% })}" "$(wc -l <"$tmp/want-c")" "$(wc -l <"$tmp/want-java")"
