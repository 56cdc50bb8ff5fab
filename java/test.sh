#!/usr/bin/env bash
# Java binding test: builds libwxface (debug cdylib, JNI feature on by default), the jar and the
# mock server, starts the mock on a free port, runs com.wxface.WxFaceTest under -Xcheck:jni, and
# fails on any failed assertion, a missing summary line, or any JNI warning in the output.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="$root/build/java"
work="$(mktemp -d)"
mock_pid=""
cleanup() {
    if [[ -n "$mock_pid" ]]; then
        exec 9>&- 2>/dev/null || true          # EOF on stdin stops the mock (--exit-on-stdin-eof)
        kill "$mock_pid" 2>/dev/null || true
        wait "$mock_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

command -v java >/dev/null || { echo "java/test.sh: java not found (install a JDK)" >&2; exit 1; }

echo "== cargo build --lib (libwxface.so with the JNI exports)"
cargo build --lib
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

echo "== starting wxface-mock"
mkfifo "$work/stdin"
"$target_dir/debug/wxface-mock" --bind 127.0.0.1:0 --port-file "$work/port" --exit-on-stdin-eof \
    <"$work/stdin" >"$work/mock.log" 2>&1 &
mock_pid=$!
exec 9>"$work/stdin"                          # hold the mock's stdin open until cleanup
for _ in $(seq 1 100); do
    [[ -s "$work/port" ]] && break
    kill -0 "$mock_pid" 2>/dev/null || { cat "$work/mock.log" >&2; echo "java/test.sh: mock exited" >&2; exit 1; }
    sleep 0.1
done
[[ -s "$work/port" ]] || { echo "java/test.sh: mock did not write its port" >&2; exit 1; }
port="$(tr -d '[:space:]' <"$work/port")"
echo "mock on http://127.0.0.1:$port"

echo "== java -Xcheck:jni com.wxface.WxFaceTest"
status=0
java -Xcheck:jni -Djava.library.path="$lib_dir" -cp "$out/wxface.jar:$out/test-classes" \
    com.wxface.WxFaceTest "http://127.0.0.1:$port" >"$work/java.log" 2>&1 || status=$?
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
