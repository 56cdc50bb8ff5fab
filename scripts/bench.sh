#!/usr/bin/env bash
# make bench: wxface beside its peers, on this machine. Not part of `make test`; nothing here is
# asserted, it only measures and prints one table (and keeps the raw lines in build/bench/).
#
#   1. Criterion benches (benches/work.rs, benches/cache_hit.rs): signing, the whole request
#      body, the whole response (decode + verify + checks), the floor (the two raw digests a
#      call needs), and a cache hit through the C ABI from 1, 2 and 4 threads.
#   2. The mock server as a process on 127.0.0.1, then against it: benches/e2e.rs (1 and 4
#      threads on one client, cache off; client creation and first call over TLS), and the
#      peers wechatpay-axios-plugin (npm) and wechatpy (PyPI), installed into build/peers/ on
#      the first run, doing the same pure work and the same calls (benches/peers/).
#   3. Peak RSS of the C example (examples-c/get_authinfo.c) for one call; stripped sizes.
#
# WXFACE_BENCH_SECS (default 3): length of each end-to-end run.
work="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/bench"
rm -rf "$work/tls" "$work"/*.stdin
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
out=build/bench
mkdir -p "$out" build/peers
secs=${WXFACE_BENCH_SECS:-3}
AXIOS_PLUGIN=wechatpay-axios-plugin@0.9.6
WECHATPY=wechatpy==1.8.18

echo "building (log: $out/build.log)..."
{
    cargo build --release -p wxface-mock
    make --no-print-directory lib
    cargo bench --no-run -p wxface --bench work --bench cache_hit --bench e2e
} >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
cc -std=c99 -O2 -Iinclude examples-c/get_authinfo.c -Ltarget/release -lwxface \
    -Wl,-rpath,"$PWD/target/release" -o "$out/get_authinfo"
cc -std=c99 -O2 benches/peak_rss.c -o "$out/peak_rss"

if [ ! -d build/peers/node/node_modules/wechatpay-axios-plugin ]; then
    command -v npm >/dev/null || { echo "the peers need node and npm (apt-get install nodejs npm)" >&2; exit 1; }
    echo "installing $AXIOS_PLUGIN into build/peers/node..."
    mkdir -p build/peers/node
    npm install --prefix build/peers/node --no-audit --no-fund --silent "$AXIOS_PLUGIN" >/dev/null
fi
if [ ! -d build/peers/py/wechatpy ]; then
    echo "installing $WECHATPY into build/peers/py..."
    python3 -m pip install -q --disable-pip-version-check --target build/peers/py "$WECHATPY" >/dev/null
fi

echo "Criterion: pure work and cache hit..."
rm -rf target/criterion
WXFACE_BENCH_INPUTS="$PWD/$out/inputs.json" cargo bench -q -p wxface --bench work >"$out/work.log" 2>&1
cargo bench -q -p wxface --bench cache_hit >"$out/cache_hit.log" 2>&1

key=wxfacemock0123456789abcdefABCDEF # the mock's default, which benches/common uses
mock mock
url=$base_url

echo "end to end against $url (${secs} s per run)..."
WXFACE_BENCH_URL=$url WXFACE_BENCH_SECS=$secs cargo bench -q -p wxface --bench e2e >"$out/wxface.txt" 2>"$out/e2e.log"
echo "peers..."
NODE_PATH=build/peers/node/node_modules node benches/peers/axios_plugin.js "$out/inputs.json" "$url" "$secs" >"$out/axios_plugin.txt"
PYTHONPATH=build/peers/py python3 benches/peers/wechatpy_peer.py "$out/inputs.json" "$url" "$secs" >"$out/wechatpy.txt"

# Peak RSS of the C example for one call, over plain HTTP and over TLS (a second mock with a
# test CA). benches/peak_rss.c forks it from a small process: measured from Python, the child
# would report Python's own high-water mark (Linux keeps the pre-exec one), about 13 MB.
tls_dir=$out/tls
mkdir -p "$tls_dir"
mock mock-tls --tls-dir "$tls_dir"
tls_port=$port
export WXFACE_MCH_ID=1900000109 WXFACE_APPID=wx2421b1c4370ec43b \
    WXFACE_KEY="$key" WXFACE_STORE_ID=1001 \
    WXFACE_STORE_NAME="深圳南山科技园店" WXFACE_DEVICE_ID=POS-01 WXFACE_RAWDATA=bench+rawdata
peak_rss() { # prints the C example's peak RSS in KiB; its own failure stops the bench
    local kib
    kib=$("$out/peak_rss" "$out/get_authinfo" 2>&1 >/dev/null) || { echo "C example failed: $kib" >&2; exit 1; }
    echo "$kib"
}
rss_plain=$(WXFACE_BASE_URL=$url peak_rss)
rss_tls=$(WXFACE_BASE_URL=https://localhost:$tls_port WXFACE_CA_FILE=$tls_dir/ca.pem peak_rss)
printf 'rss/c_example %s KiB\nrss/c_example_tls %s KiB\n' "$rss_plain" "$rss_tls" >"$out/rss.txt"
unset WXFACE_KEY

{
    echo "machine: $(uname -m), $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "rustc: $(rustc --version); node $(node --version); $(python3 --version)"
} >"$out/machine.txt"
lib_features="rustls$(grep -q '^default = \[\]' Cargo.toml || echo ', default features')"
python3 - "$out" "$lib_features" <<'PY'
import json, os, subprocess, sys
out, lib_features = sys.argv[1], sys.argv[2]

def crit(name):
    with open(f"target/criterion/{name}/new/estimates.json") as f:
        return json.load(f)["median"]["point_estimate"] / 1000  # µs

def lines(path):
    vals = {}
    for line in open(path, encoding="utf-8"):
        parts = line.split()
        if len(parts) == 3:
            vals[parts[0]] = float(parts[1])
    return vals

w = lines(f"{out}/wxface.txt")
peers = {"axios-plugin": lines(f"{out}/axios_plugin.txt"), "wechatpy": lines(f"{out}/wechatpy.txt")}
rss = lines(f"{out}/rss.txt")
print(open(f"{out}/machine.txt").read().rstrip())
print()
print(f"{'measure':<34}{'wxface':>11}{'floor':>9}{'÷floor':>8}{'axios-plugin':>14}{'÷wxface':>9}{'wechatpy':>11}{'÷wxface':>9}")
def row(label, ours, floor=None, key=None, unit="µs", higher_better=False, fmt="{:.2f}"):
    cells = f"{label:<34}{fmt.format(ours):>11}"
    cells += f"{fmt.format(floor):>9}{ours / floor:>7.2f}x" if floor else f"{'':>9}{'':>8}"
    for name in ("axios-plugin", "wechatpy"):
        v = peers[name].get(key) if key else None
        width = 14 if name == "axios-plugin" else 11
        if v is None:
            cells += " " * (width + 9)
            continue
        ratio = ours / v if higher_better else v / ours
        cells += f"{fmt.format(v):>{width}}{ratio:>8.1f}x"
    print(cells + f"  {unit}")
for st in ("MD5", "HMAC-SHA256"):
    req, resp, floor = crit(f"request_{st}"), crit(f"response_{st}"), crit(f"floor_{st}")
    peer_total = {n: p.get(f"request/{st}", 0) + p.get(f"response/{st}", 0) for n, p in peers.items()}
    for n in peers:
        peers[n][f"work/{st}"] = peer_total[n]
    row(f"sign {st}", crit(f"sign_{st}"))
    row(f"request body {st}", req, key=f"request/{st}")
    row(f"response decode+verify {st}", resp, key=f"response/{st}")
    row(f"pure work per call {st}", req + resp, floor, key=f"work/{st}")
row("xml encode", crit("encode"))
one = crit("cache_hit/threads=1")
for t in (1, 2, 4):
    v = crit(f"cache_hit/threads={t}")
    row(f"cache hit C ABI, {t} thr (agg/call)", v)
print(f"{'cache hit scaling 2 thr (x single)':<34}{one / crit('cache_hit/threads=2'):>11.2f}")
print(f"{'  same, a client per thread':<34}{one / crit('cache_hit/own_client_threads=2'):>11.2f}")
print(f"{'CPU-only loop scaling 2 thr':<34}{crit('machine/threads=1') / crit('machine/threads=2'):>11.2f}")
for t in (1, 4):
    row(f"loopback calls/s, {t} thread(s)", w[f"e2e/threads={t}"], key=f"e2e/threads={t}",
        unit="calls/s (peers ÷ is wxface ÷ peer)", higher_better=True, fmt="{:.0f}")
row("client creation, bundled roots", w["startup/client_new_bundled"])
row("client creation, bundled + CA", w["startup/client_new_bundled_plus_ca"])
row("first call over TLS (new client)", w["startup/first_call_tls"])
row("reused-connection call over TLS", w["startup/reused_call_tls"])
print(f"{'peak RSS, C example, one call':<34}{rss['rss/c_example'] / 1024:>11.1f}  MB")
print(f"{'peak RSS, C example, one TLS call':<34}{rss['rss/c_example_tls'] / 1024:>11.1f}  MB")
print()
def du(path):
    return int(subprocess.run(["du", "-sb", path], capture_output=True, text=True).stdout.split()[0])
sizes = [(f"libwxface.so x86_64 ({lib_features})", os.path.getsize("target/release/libwxface.so"))]
# What `make size` staged (scripts/size.sh: linked the way it ships, stripped).
for name, path in (("libwxface.so aarch64 (rustls, no JNI)", "target/size/rustls/lib/libwxface.so"),
                   ("libwxface.so aarch64 (OpenSSL, no JNI)", "target/size/openssl/lib/libwxface.so")):
    if os.path.exists(path):
        sizes.append((name, os.path.getsize(path)))
sizes.append(("C example binary", os.path.getsize(f"{out}/get_authinfo")))
sizes.append(("wechatpay-axios-plugin + deps (node_modules)", du("build/peers/node/node_modules")))
sizes.append(("wechatpy + deps (site-packages)", du("build/peers/py")))
print(f"{'artifact (stripped where binary)':<48}{'bytes':>12}")
for name, size in sizes:
    print(f"{name:<48}{size:>12,}")
if len(sizes) < 6:
    print("(aarch64 sizes: run `make size` first)")
PY
