#!/usr/bin/env bash
# The Java API in relay mode: builds libwxface (with JNI), the jar, the mock and the relay,
# starts the mock and a relay in front of it on free loopback ports, issues a token, and runs
# RelayModeTest under -Xcheck:jni. Fails on a failed check, a bad summary or a JNI warning.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; on_exit' EXIT
command -v java >/dev/null || { echo "java-relay.sh: java not found (install a JDK)" >&2; exit 1; }

cargo build --lib --features jni
cargo build -p wxface-mock -p wxface-relay
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target_dir/debug"
bash "$root/java/build.sh" >/dev/null
mkdir -p "$work/classes"
javac --release 8 -encoding UTF-8 -Xlint:all -Werror -cp "$root/build/java/wxface.jar" \
    -d "$work/classes" "$root/relay/tests/java/RelayModeTest.java"

key=wxfacemock0123456789abcdefABCDEF
mock_bin="$bin/wxface-mock"
mock mock
mock_port=$port

cat >"$work/relay.toml" <<TOML
listen = "127.0.0.1:0"
tokens_file = "tokens"
audit_log = "audit.log"
upstream_timeout_ms = 2000

[[merchant]]
name = "hq"
mch_id = "1900000109"
appid = "wx2421b1c4370ec43b"
key_file = "hq.key"
base_url = "http://127.0.0.1:$mock_port"

[[device]]
id = "POS-01"
merchant = "hq"

[[device]]
id = "POS-02"
merchant = "hq"
TOML
printf '%s\n' "$key" >"$work/hq.key"
token="$("$bin/wxface-relay" token add POS-01 --config "$work/relay.toml" 2>/dev/null)"
"$bin/wxface-relay" serve --config "$work/relay.toml" >"$work/relay.out" 2>"$work/relay.log" &
pids+=("$!")
for _ in $(seq 1 100); do grep -q "listening on" "$work/relay.log" && break; sleep 0.1; done
relay_url="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/relay.log" | head -n1)"
[[ -n "$relay_url" ]] || { cat "$work/relay.log" >&2; echo "java-relay.sh: the relay did not start" >&2; exit 1; }
echo "mock on $mock_port, relay on $relay_url"

status=0
java -Xcheck:jni -Djava.library.path="$bin" -cp "$root/build/java/wxface.jar:$work/classes" \
    RelayModeTest "$relay_url" "$token" POS-01 >"$work/java.log" 2>&1 || status=$?
cat "$work/java.log"
fail=0
[[ $status -eq 0 ]] || { echo "java-relay.sh: exit status $status" >&2; fail=1; }
summary="$(tail -n 1 "$work/java.log")"
[[ "$summary" =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]] || { echo "java-relay.sh: bad summary: $summary" >&2; fail=1; }
if grep -nE 'WARNING|FATAL ERROR|hs_err_pid' "$work/java.log" >&2; then fail=1; fi
if grep -q "${token:4}" "$work/audit.log" "$work/relay.log" "$work/relay.out"; then
    echo "java-relay.sh: the token leaked into the relay's logs" >&2; fail=1
fi
[[ $fail -eq 0 ]] || { echo "java-relay.sh: FAILED" >&2; exit 1; }
echo "java-relay.sh: OK ($summary, no JNI warnings)"
