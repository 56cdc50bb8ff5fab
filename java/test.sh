#!/usr/bin/env bash
# Java binding test: builds libwxface (debug cdylib with --features jni), the jar and the
# mock server, starts the mocks on free ports (the main one, plus one failing its first 2 requests,
# one with a clock 1000 s ahead, one serving HTTPS with a fresh test CA, one handing out 2-second
# authinfos), runs com.wxface.WxFaceTest under -Xcheck:jni, and fails on any failed assertion, a
# missing summary line, or any JNI warning in the output.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
out="$root/build/java"
key=wxfacemock0123456789abcdefABCDEF # the mock's default, which WxFaceTest uses
command -v java >/dev/null || { echo "java/test.sh: java not found (install a JDK)" >&2; exit 1; }

echo "== cargo build --lib --features jni (libwxface.so with the JNI exports)"
cargo build --lib --features jni
echo "== cargo build -p wxface-mock"
cargo build -p wxface-mock
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
lib_dir="$target_dir/debug"
[[ -f "$lib_dir/libwxface.so" ]] || { echo "java/test.sh: $lib_dir/libwxface.so missing" >&2; exit 1; }
nm -D --defined-only "$lib_dir/libwxface.so" | grep -q Java_com_wxface_WxFaceClient_nativeGetAuthinfo \
    || { echo "java/test.sh: libwxface.so has no JNI exports (built without the jni feature?)" >&2; exit 1; }

echo "== java/build.sh"
bash "$root/java/build.sh"
mkdir -p "$out/test-classes"
javac --release 8 -encoding UTF-8 -Xlint:all -Werror -cp "$out/wxface.jar" -d "$out/test-classes" \
    "$root/java/test/com/wxface/WxFaceTest.java"

mock_bin="$target_dir/debug/wxface-mock"

echo "== starting wxface-mock (5 instances)"
mock main
main_port="$port"
mock flaky --fail-first 2 --fail-with http-500
flaky_port="$port"
mock skew --clock-offset-secs 1000
skew_port="$port"
tls_dir="$root/build/java-tls"
rm -rf "$tls_dir"
mkdir -p "$tls_dir"
mock tls --tls-dir "$tls_dir"
tls_port="$port"
[[ -s "$tls_dir/ca.pem" ]] || { echo "java/test.sh: the TLS mock wrote no $tls_dir/ca.pem" >&2; exit 1; }
# A trust store laid out like Android's /system/etc/security/cacerts: a hashed file name, the PEM
# block, then a text dump; and one holding no certificate.
mkdir -p "$tls_dir/cacerts" "$tls_dir/cacerts-empty"
{ cat "$tls_dir/ca.pem"; printf 'Certificate:\n    Data:\n        Version: 3 (0x2)\n'; } >"$tls_dir/cacerts/5ed36f99.0"
echo "no certificate here" >"$tls_dir/cacerts-empty/README"
mock short --expires-in 2
short_port="$port"

echo "== java -Xcheck:jni com.wxface.WxFaceTest"
status=0
java -Xcheck:jni -Djava.library.path="$lib_dir" -cp "$out/wxface.jar:$out/test-classes" \
    -Dwxface.test.flakyUrl="http://127.0.0.1:$flaky_port" \
    -Dwxface.test.skewUrl="http://127.0.0.1:$skew_port" \
    -Dwxface.test.tlsUrl="https://127.0.0.1:$tls_port" \
    -Dwxface.test.tlsCa="$tls_dir/ca.pem" \
    -Dwxface.test.tlsAndroidDir="$tls_dir/cacerts" \
    -Dwxface.test.tlsEmptyDir="$tls_dir/cacerts-empty" \
    -Dwxface.test.badConfig="$root/tests/bad_config.tsv" \
    -Dwxface.test.shortUrl="http://127.0.0.1:$short_port" \
    com.wxface.WxFaceTest "http://127.0.0.1:$main_port" >"$work/java.log" 2>&1 || status=$?
cat "$work/java.log"

fail=0
if [[ $status -ne 0 ]]; then
    echo "java/test.sh: the Java test exited with status $status" >&2
    fail=1
fi
summary="$(tail -n 1 "$work/java.log")"
if ! [[ "$summary" =~ ^([0-9]+)\ passed,\ 0\ failed$ ]] || [[ "${BASH_REMATCH[1]}" -eq 0 ]]; then
    echo "java/test.sh: bad summary line: $summary" >&2
    fail=1
fi
# -Xcheck:jni reports problems as "WARNING in native method: ..." or "FATAL ERROR in native method".
if grep -nE 'WARNING|FATAL ERROR|hs_err_pid|JNI local refs' "$work/java.log" >&2; then
    echo "java/test.sh: JNI warnings in the output (above)" >&2
    fail=1
fi
if [[ $fail -ne 0 ]]; then
    echo "java/test.sh: FAILED" >&2
    exit 1
fi
echo "java/test.sh: OK ($summary, no JNI warnings)"
bash "$root/java/abi-test.sh"
