#!/usr/bin/env bash
# make bench: wxface beside its peers (wechatpay-axios-plugin from npm, wechatpy from PyPI,
# installed into build/peers/ on the first run), on this machine: the Criterion benches, the
# end-to-end calls against the mock, the C example's peak RSS and the sizes, printed as one table
# (what each row measures: docs/benchmarks.md). Nothing is asserted; raw lines stay in build/bench/.
# WXFACE_BENCH_SECS (default 3): length of each end-to-end run.
work="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/bench"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
out=build/bench secs=${WXFACE_BENCH_SECS:-3}
mkdir -p build/peers

echo "building (log: $out/build.log)..."
{
    make --no-print-directory lib mock
    cargo bench --no-run -p wxface --bench work --bench cache_hit --bench e2e
} >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
cc -std=c99 -O2 -Iinclude examples-c/get_authinfo.c -Ltarget/release -lwxface \
    -Wl,-rpath,"$PWD/target/release" -o "$out/get_authinfo"
cc -std=c99 -O2 benches/peak_rss.c -o "$out/peak_rss"
[[ -d build/peers/node/node_modules/wechatpay-axios-plugin ]] || {
    echo "installing the peers into build/peers..."
    mkdir -p build/peers/node
    npm install --prefix build/peers/node --no-audit --no-fund --silent wechatpay-axios-plugin@0.9.6 >/dev/null
}
[[ -d build/peers/py/wechatpy ]] ||
    python3 -m pip install -q --disable-pip-version-check --target build/peers/py wechatpy==1.8.18 >/dev/null

echo "Criterion: pure work and cache hit..."
rm -rf target/criterion
WXFACE_BENCH_INPUTS="$PWD/$out/inputs.json" cargo bench -q -p wxface --bench work >"$out/work.log" 2>&1
cargo bench -q -p wxface --bench cache_hit >"$out/cache_hit.log" 2>&1

key=wxfacemock0123456789abcdefABCDEF # the mock's default, which benches/common uses
mock mock
url=$base_url
echo "end to end against $url (${secs} s per run), then the peers..."
WXFACE_BENCH_URL=$url WXFACE_BENCH_SECS=$secs cargo bench -q -p wxface --bench e2e >"$out/wxface.txt" 2>"$out/e2e.log"
NODE_PATH=build/peers/node/node_modules node benches/peers/axios_plugin.js "$out/inputs.json" "$url" "$secs" >"$out/axios_plugin.txt"
PYTHONPATH=build/peers/py python3 benches/peers/wechatpy_peer.py "$out/inputs.json" "$url" "$secs" >"$out/wechatpy.txt"

# Peak RSS of the C example for one call, over plain HTTP and over TLS (a second mock, a test CA),
# measured by benches/peak_rss.c (why not from Python: its header).
rm -rf "$work/tls" && mkdir -p "$work/tls"
mock mock-tls --tls-dir "$work/tls"
export WXFACE_MCH_ID=1900000109 WXFACE_APPID=wx2421b1c4370ec43b WXFACE_KEY="$key" WXFACE_STORE_ID=1001 \
    WXFACE_STORE_NAME="深圳南山科技园店" WXFACE_DEVICE_ID=POS-01 WXFACE_RAWDATA=bench+rawdata
for run in "c_example WXFACE_BASE_URL=$url" "c_example_tls WXFACE_BASE_URL=https://localhost:$port WXFACE_CA_FILE=$work/tls/ca.pem"; do
    read -r name env <<<"$run"
    # shellcheck disable=SC2086 # the settings are split on purpose
    kib=$(env $env "$out/peak_rss" "$out/get_authinfo" 2>&1 >/dev/null) || { echo "C example failed: $kib" >&2; exit 1; }
    echo "rss/$name $kib KiB"
done >"$out/rss.txt"
unset WXFACE_KEY

echo "machine: $(uname -m), $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)
rustc: $(rustc --version); node $(node --version); $(python3 --version)" >"$out/machine.txt"
python3 - "$out" "rustls$(grep -q '^default = \[\]' Cargo.toml || echo ', default features')" <<'PY'
import json, os, subprocess, sys
out, features = sys.argv[1:]
def crit(name):  # a Criterion median, µs
    return json.load(open(f"target/criterion/{name}/new/estimates.json"))["median"]["point_estimate"] / 1000
def lines(name):  # "measure value unit" lines
    return {p[0]: float(p[1]) for p in (line.split() for line in open(f"{out}/{name}.txt", encoding="utf-8")) if len(p) == 3}
w, rss = lines("wxface"), lines("rss")
peers = {"axios-plugin": lines("axios_plugin"), "wechatpy": lines("wechatpy")}
print(open(f"{out}/machine.txt").read())
print(f"{'measure':<34}{'wxface':>11}{'floor':>9}{'÷floor':>8}" + "".join(f"{n:>14}{'÷wxface':>9}" for n in peers))
def row(label, ours, floor=None, key=None, unit="µs", calls=False):
    fmt = "{:.0f}" if calls else "{:.2f}"
    cells = f"{label:<34}{fmt.format(ours):>11}" + (f"{fmt.format(floor):>9}{ours / floor:>7.2f}x" if floor else " " * 17)
    for p in peers.values():
        v = p.get(key)
        cells += f"{fmt.format(v):>14}{(ours / v if calls else v / ours):>8.1f}x" if v else " " * 23
    print(f"{cells}  {unit}")
for st in ("MD5", "HMAC-SHA256"):
    for p in peers.values():
        p[f"work/{st}"] = p.get(f"request/{st}", 0) + p.get(f"response/{st}", 0)
    req, resp = crit(f"request_{st}"), crit(f"response_{st}")
    row(f"sign {st}", crit(f"sign_{st}"))
    row(f"request body {st}", req, key=f"request/{st}")
    row(f"response decode+verify {st}", resp, key=f"response/{st}")
    row(f"pure work per call {st}", req + resp, crit(f"floor_{st}"), key=f"work/{st}")
row("xml encode", crit("encode"))
for t in (1, 2, 4):
    row(f"cache hit C ABI, {t} thr (agg/call)", crit(f"cache_hit/threads={t}"))
for label, one, two in (("cache hit scaling 2 thr (x single)", "cache_hit/threads=1", "cache_hit/threads=2"),
                        ("  same, a client per thread", "cache_hit/threads=1", "cache_hit/own_client_threads=2"),
                        ("CPU-only loop scaling 2 thr", "machine/threads=1", "machine/threads=2")):
    print(f"{label:<34}{crit(one) / crit(two):>11.2f}")
for t in (1, 4):
    row(f"loopback calls/s, {t} thread(s)", w[f"e2e/threads={t}"], key=f"e2e/threads={t}",
        unit="calls/s (peers ÷ is wxface ÷ peer)", calls=True)
for label, key in (("client creation, bundled roots", "client_new_bundled"), ("client creation, bundled + CA", "client_new_bundled_plus_ca"),
                   ("first call over TLS (new client)", "first_call_tls"), ("reused-connection call over TLS", "reused_call_tls")):
    row(label, w[f"startup/{key}"])
for label, key in (("one call", "c_example"), ("one TLS call", "c_example_tls")):
    print(f"{'peak RSS, C example, ' + label:<34}{rss['rss/' + key] / 1024:>11.1f}  MB")
# The aarch64 libraries are what `make size` staged (linked the way they ship, stripped).
sizes = [(f"libwxface.so x86_64 ({features})", "target/release/libwxface.so"),
         ("libwxface.so aarch64 (rustls, no JNI)", "target/size/rustls/lib/libwxface.so"),
         ("libwxface.so aarch64 (OpenSSL, no JNI)", "target/size/openssl/lib/libwxface.so"),
         ("C example binary", f"{out}/get_authinfo"),
         ("wechatpay-axios-plugin + deps (node_modules)", "build/peers/node/node_modules"),
         ("wechatpy + deps (site-packages)", "build/peers/py")]
print(f"\n{'artifact (stripped where binary)':<48}{'bytes':>12}")
for name, path in sizes:
    if os.path.exists(path):
        print(f"{name:<48}{int(subprocess.run(['du', '-sb', os.path.realpath(path)], capture_output=True, text=True).stdout.split()[0]):>12,}")
if not os.path.exists(sizes[1][1]):
    print("(aarch64 sizes: run `make size` first)")
PY
