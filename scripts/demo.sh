#!/usr/bin/env bash
# make demo: build libwxface and the mock, start the mock on a free loopback port, call
# wxface_get_authinfo from the C example against it, print the result, stop the mock.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p build
echo "building libwxface and the mock server (log: build/build.log)..."
make --no-print-directory lib mock >build/build.log 2>&1 || { cat build/build.log; exit 1; }
cc -std=c99 -Wall -Wextra -Werror -Iinclude examples-c/get_authinfo.c \
  -Ltarget/release -lwxface -Wl,-rpath,"$PWD/target/release" -o build/get_authinfo

port_file=build/mock.port
rm -f "$port_file"
# A throwaway 32-character key shared by the mock and the demo; never a real merchant key.
demo_key=wxfacedemo0123456789abcdefABCDEF
target/release/wxface-mock --key "$demo_key" --port-file "$port_file" 2>build/mock.log &
mock_pid=$!
trap 'kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.1; done
[ -s "$port_file" ] || { echo "the mock server did not start; see build/mock.log" >&2; exit 1; }
port=$(cat "$port_file")

echo "mock payapp server on http://127.0.0.1:$port (test key, nothing leaves this machine)"
echo "calling wxface_get_authinfo from C (examples-c/get_authinfo.c):"
WXFACE_MCH_ID=1900000109 \
WXFACE_APPID=wx2421b1c4370ec43b \
WXFACE_KEY="$demo_key" \
WXFACE_BASE_URL="http://127.0.0.1:$port" \
WXFACE_STORE_ID=1001 \
WXFACE_STORE_NAME="深圳南山科技园店" \
WXFACE_DEVICE_ID=POS-01 \
WXFACE_RAWDATA="demo+rawdata/from=the-face-sdk" \
  build/get_authinfo
