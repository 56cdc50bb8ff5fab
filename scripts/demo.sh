#!/usr/bin/env bash
# make demo: build libwxface (as `make lib` lays it out under build/lib) and the mock payapp
# server, start the mock on a free loopback port, call wxface_get_authinfo from the C example
# against it, say what came back, stop the mock. Nothing leaves this machine.
work=build/demo
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

echo "1. Building libwxface (build/lib) and the mock payapp server; log in build/build.log"
make --no-print-directory lib mock >build/build.log 2>&1 || { cat build/build.log; exit 1; }
cc -std=c99 -Wall -Wextra -Werror -Ibuild/lib/include examples-c/get_authinfo.c \
  -Lbuild/lib/lib -lwxface -Wl,-rpath,"$PWD/build/lib/lib" -o build/get_authinfo
rm -rf "$work" && mkdir -p "$work"
mock demo

echo "2. Mock payapp server listening on $base_url (WeChat's API, played locally"
echo "   with a throwaway key)."
echo "3. build/get_authinfo (examples-c/get_authinfo.c) signs a get_wxpayface_authinfo request"
echo "   (HMAC-SHA256) for store 1001 \"深圳南山科技园店\", device POS-01, and POSTs it:"
rc=0
out=$(WXFACE_MCH_ID=1900000109 WXFACE_APPID=wx2421b1c4370ec43b WXFACE_KEY="$key" \
  WXFACE_BASE_URL="$base_url" WXFACE_STORE_ID=1001 WXFACE_STORE_NAME="深圳南山科技园店" \
  WXFACE_DEVICE_ID=POS-01 WXFACE_RAWDATA="demo+rawdata/from=the-face-sdk" build/get_authinfo 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/     /'
if [ "$rc" -ne 0 ]; then
  echo "   the call failed (exit $rc); the mock's log is $work/demo.log" >&2
  exit "$rc"
fi
echo "4. The answer's signature was verified and its authinfo is valid for the expires_in"
echo "   seconds shown; a face SDK would now use it."
echo "Next: build/get_authinfo --help; README.md \"Using it from C\"; docs/c-api.md (linking,"
echo "make install, pkg-config, CMake); docs/ for the rest of the manual."
